import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { SecureRandom } from "../random/secure-random";
import { TrainingInputError } from "@ciphershare/protocol/training/errors";
import {
  assertTrainingData,
  providerStatistics,
  type ProviderStatistics,
  type TrainingShape,
} from "@ciphershare/protocol/training/statistics";
import { transposeMultiply } from "@ciphershare/protocol/linalg/matrix";

/** δ of the providers' (ε, δ)-DP, and the clip norm of a row (x, y). */
export const TRAINING_DP_DELTA = 1e-5;
export const TRAINING_DP_CLIP_NORM = 2;

/**
 * The statistics a provider submits (`provider submit` and the web app's provider page): A = XᵀX, B = XᵀY, with the
 * Gaussian mechanism when the program's terms or the provider ask for an ε (the smaller ε, i.e. the larger noise, of
 * the two; δ = TRAINING_DP_DELTA, rows clipped to TRAINING_DP_CLIP_NORM), else exact. `privacy` is the accounting to
 * show the provider, null without DP.
 */
export function submissionStatistics(
  x: Matrix,
  y: Matrix,
  shape: TrainingShape,
  epsilon: { readonly terms: number | null; readonly provider?: number },
  random?: SecureRandom,
): { stats: ProviderStatistics; privacy: PrivacyAccounting | null } {
  const epsilons = [epsilon.terms, epsilon.provider].filter((e): e is number => typeof e === "number");
  if (epsilons.length === 0) return { stats: providerStatistics(x, y, shape), privacy: null };
  const noisy = privateStatistics(x, y, shape, submissionBudget(Math.min(...epsilons)), random);
  return { stats: noisy.stats, privacy: noisy.accounting };
}

/** The budget a submission at ε uses: δ = TRAINING_DP_DELTA, C = TRAINING_DP_CLIP_NORM. */
export function submissionBudget(epsilon: number): PrivacyBudget {
  return { epsilon, delta: TRAINING_DP_DELTA, clipNorm: TRAINING_DP_CLIP_NORM };
}

/** What a provider asks for: (ε, δ) and the joint row norm C that rows (x, y) are clipped to. */
export interface PrivacyBudget {
  readonly epsilon: number;
  readonly delta: number;
  readonly clipNorm: number;
}

/** The accounting shown to the provider before anything is encrypted. */
export interface PrivacyAccounting extends PrivacyBudget {
  /** "replace-one": neighbouring datasets differ in one row; the row count n_k is public, so it cannot change. */
  readonly adjacency: "replace-one";
  /** L2 sensitivity of (upper triangle of XᵀX, XᵀY) under replace-one with ‖(x, y)‖ ≤ C: 2C². */
  readonly sensitivity: number;
  /** Standard deviation of the Gaussian noise on every released entry (analytic Gaussian mechanism). */
  readonly sigma: number;
  /** Rows whose norm exceeded C and were scaled down to it. */
  readonly clippedRows: number;
  readonly rows: number;
  readonly description: string;
}

/** Checks a budget: 0 < ε ≤ 50, 0 < δ < 1, C > 0, all finite. */
export function assertPrivacyBudget(budget: PrivacyBudget): void {
  const { epsilon, delta, clipNorm } = budget;
  if (!(Number.isFinite(epsilon) && epsilon > 0 && epsilon <= 50)) {
    throw new TrainingInputError("dp", "ε must be a number in (0, 50].", { details: `ε = ${epsilon}` });
  }
  if (!(Number.isFinite(delta) && delta > 0 && delta < 1)) {
    throw new TrainingInputError("dp", "δ must be a number in (0, 1).", { details: `δ = ${delta}` });
  }
  if (!(Number.isFinite(clipNorm) && clipNorm > 0)) {
    throw new TrainingInputError("dp", "The clipping norm C must be a positive number.", {
      details: `C = ${clipNorm}`,
    });
  }
}

/**
 * The smallest σ for which adding N(0, σ²) to every coordinate of a query of L2 sensitivity Δ is (ε, δ)-DP, by the
 * analytic Gaussian mechanism (Balle and Wang, ICML 2018): the condition
 * Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ) ≤ δ is exact (valid for every ε, unlike the classical
 * σ = Δ·√(2 ln(1.25/δ))/ε, which needs ε < 1), and its left side decreases in σ: bisection on log σ.
 */
export function analyticGaussianSigma(epsilon: number, delta: number, sensitivity: number): number {
  assertPrivacyBudget({ epsilon, delta, clipNorm: sensitivity });
  const privacyLoss = (sigma: number) =>
    normalCdf(sensitivity / (2 * sigma) - (epsilon * sigma) / sensitivity) -
    Math.exp(epsilon) * normalCdf(-sensitivity / (2 * sigma) - (epsilon * sigma) / sensitivity);
  let low = sensitivity * 1e-6;
  let high = sensitivity;
  while (privacyLoss(high) > delta) high *= 2;
  for (let i = 0; i < 200 && high / low > 1 + 1e-12; i++) {
    const mid = Math.sqrt(low * high);
    if (privacyLoss(mid) > delta) low = mid;
    else high = mid;
  }
  return high;
}

/**
 * Clips each row (x, y) to joint norm C and computes A = XᵀX, B = XᵀY plus Gaussian noise calibrated to (ε, δ):
 * one N(0, σ²) draw per entry of A's upper triangle (mirrored, so A stays symmetric) and per entry of B. The
 * release is post-processing of the noisy vector, so whatever happens to it after (encryption, aggregation, the
 * solve) keeps the guarantee. The noise is drawn from the CSPRNG.
 */
export function privateStatistics(
  x: Matrix,
  y: Matrix,
  shape: TrainingShape,
  budget: PrivacyBudget,
  random = new SecureRandom(),
): { stats: ProviderStatistics; accounting: PrivacyAccounting } {
  assertTrainingData(x, y, shape);
  assertPrivacyBudget(budget);
  const cx = Float64Array.from(x.data);
  const cy = Float64Array.from(y.data);
  let clippedRows = 0;
  for (let r = 0; r < x.rows; r++) {
    let norm2 = 0;
    for (let j = 0; j < x.cols; j++) norm2 += cx[r * x.cols + j] ** 2;
    for (let k = 0; k < y.cols; k++) norm2 += cy[r * y.cols + k] ** 2;
    const norm = Math.sqrt(norm2);
    if (norm <= budget.clipNorm) continue;
    clippedRows++;
    const factor = budget.clipNorm / norm;
    for (let j = 0; j < x.cols; j++) cx[r * x.cols + j] *= factor;
    for (let k = 0; k < y.cols; k++) cy[r * y.cols + k] *= factor;
  }
  const clippedX = { rows: x.rows, cols: x.cols, data: cx };
  const a = transposeMultiply(clippedX, clippedX);
  const b = transposeMultiply(clippedX, { rows: y.rows, cols: y.cols, data: cy });
  const sensitivity = 2 * budget.clipNorm ** 2;
  const sigma = analyticGaussianSigma(budget.epsilon, budget.delta, sensitivity);
  const d = shape.features;
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const noise = sigma * random.nextNormal();
      a.data[i * d + j] += noise;
      if (j !== i) a.data[j * d + i] += noise;
    }
  }
  for (let i = 0; i < b.data.length; i++) b.data[i] += sigma * random.nextNormal();
  const accounting: PrivacyAccounting = {
    ...budget,
    adjacency: "replace-one",
    sensitivity,
    sigma,
    clippedRows,
    rows: x.rows,
    description:
      `(ε = ${budget.epsilon}, δ = ${budget.delta})-DP for each of your ${x.rows} rows (replace-one; the row count ` +
      `is public): rows clipped to ‖(x, y)‖ ≤ ${budget.clipNorm} (${clippedRows} clipped), sensitivity 2C² = ` +
      `${sensitivity}, Gaussian noise σ = ${sigma.toPrecision(4)} on each entry of XᵀX (upper triangle) and XᵀY.`,
  };
  return { stats: { a, b, rows: x.rows }, accounting };
}

/** Φ(z), the standard normal CDF, from erfc (fractional error < 1.2e-7 everywhere). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Complementary error function (Chebyshev fit, Numerical Recipes `erfcc`). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851595 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
