import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Dataset } from "@ciphershare/protocol/records/dataset";
import { assertModel, type LinearModel } from "@ciphershare/protocol/records/model";
import { type Matrix, multiply } from "@ciphershare/protocol/linalg/matrix";

/**
 * Everything the utility needs. `base` is the round's public starting model w0 (d×c), `models[i]` is
 * client i's model w_i (d×c), `sampleCounts[i]` its public sample count m_i, `x` the validation inputs
 * (n_v×d, a bias column included by whoever wants one) and `y` the targets (n_v×c).
 */
export interface ValuationProblem {
  readonly base: Matrix;
  readonly models: readonly Matrix[];
  readonly sampleCounts: readonly number[];
  readonly x: Matrix;
  readonly y: Matrix;
}

export function assertSampleCounts(sampleCounts: readonly number[]): void {
  if (sampleCounts.length === 0) throw new InvalidInputError("At least one sample count is needed.");
  sampleCounts.forEach((m, i) => {
    if (!Number.isFinite(m) || m <= 0) {
      throw new InvalidInputError("Sample counts must be positive numbers.", { details: `client ${i}: ${m}` });
    }
  });
}

export function assertValidProblem(problem: ValuationProblem): void {
  const { base, models, sampleCounts, x, y } = problem;
  if (models.length === 0) throw new InvalidInputError("At least one client model is needed.");
  if (models.length !== sampleCounts.length) {
    throw new InvalidInputError("Each client model needs exactly one sample count.", {
      details: `${models.length} models, ${sampleCounts.length} sample counts`,
    });
  }
  assertSampleCounts(sampleCounts);
  if (x.rows !== y.rows) {
    throw new InvalidInputError("X and Y must have the same number of rows.", {
      details: `X has ${x.rows}, Y has ${y.rows}`,
    });
  }
  const shapeOk = (w: Matrix) => w.rows === x.cols && w.cols === y.cols;
  if (!shapeOk(base)) {
    throw new InvalidInputError("The base model must be d×c (columns of X × columns of Y).", {
      details: `base is ${base.rows}×${base.cols}, expected ${x.cols}×${y.cols}`,
    });
  }
  models.forEach((w, i) => {
    if (!shapeOk(w)) {
      throw new InvalidInputError("Every client model must be d×c (columns of X × columns of Y).", {
        details: `client ${i} is ${w.rows}×${w.cols}, expected ${x.cols}×${y.cols}`,
      });
    }
  });
}

/** Members of a coalition given as a bitmask over client indices (bit i set ⇔ client i is in). */
export function members(coalition: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (coalition & (1 << i)) out.push(i);
  return out;
}

/** The FedAvg model of a coalition: w_S = Σ_{i∈S} (m_i / Σ_{j∈S} m_j) w_i, and w_∅ = w0. */
export function coalitionModel(problem: ValuationProblem, coalition: readonly number[]): Matrix {
  if (coalition.length === 0) return problem.base;
  const total = coalition.reduce((sum, i) => sum + problem.sampleCounts[i], 0);
  const { rows, cols } = problem.base;
  const out = new Float64Array(rows * cols);
  for (const i of coalition) {
    const weight = problem.sampleCounts[i] / total;
    const w = problem.models[i].data;
    for (let k = 0; k < out.length; k++) out[k] += weight * w[k];
  }
  return { rows, cols, data: out };
}

/** U(model) = −(1/(n_v·c)) Σ_rows Σ_outputs ((X·w − Y)_{r,o})²: minus the mean squared error. */
export function modelUtility(x: Matrix, y: Matrix, model: Matrix): number {
  const prediction = multiply(x, model).data;
  let sum = 0;
  for (let k = 0; k < prediction.length; k++) {
    const residual = prediction[k] - y.data[k];
    sum += residual * residual;
  }
  return -sum / (y.rows * y.cols);
}

/** A linear model's scores `X · W` on a dataset (`size × classes`, row-major), skipping zero features. */
export function scores(model: LinearModel, data: Dataset): Float64Array {
  assertModel(model, data.dimension, data.classes);
  const { dimension, classes } = data;
  const out = new Float64Array(data.size * classes);
  for (let row = 0; row < data.size; row++) {
    const x = row * dimension;
    const s = row * classes;
    for (let j = 0; j < dimension; j++) {
      const value = data.features[x + j];
      if (value === 0) continue; // MNIST pixels are mostly 0
      const w = j * classes;
      for (let k = 0; k < classes; k++) out[s + k] += value * model.weights[w + k];
    }
  }
  return out;
}

/**
 * The valuation utility: `−(1/(n·c))·‖X·W − Y‖²` with Y the one-hot labels. A polynomial (quadratic) in
 * the weights, so it can be evaluated under CKKS on an encrypted model; higher is better, 0 is perfect,
 * and the zero model scores −1/c.
 */
export function squaredErrorUtility(model: LinearModel, data: Dataset): number {
  const s = scores(model, data);
  let total = 0;
  for (let row = 0; row < data.size; row++) {
    for (let k = 0; k < data.classes; k++) {
      const residual = s[row * data.classes + k] - (data.labels[row] === k ? 1 : 0);
      total += residual * residual;
    }
  }
  return -total / (data.size * data.classes);
}

/** U(S): the utility of the coalition's FedAvg model on the validation set. */
export function coalitionUtility(problem: ValuationProblem, coalition: readonly number[]): number {
  return modelUtility(problem.x, problem.y, coalitionModel(problem, coalition));
}

/** |S|!(n−|S|−1)!/n!: the Shapley weight of adding a player to a coalition of `size` others. */
export function shapleyWeight(size: number, n: number): number {
  // Computed as a product of ratios so it stays accurate for n well past 20.
  let weight = 1 / n;
  for (let k = 1; k <= size; k++) weight *= k / (n - k);
  return weight;
}

export const MAX_REFERENCE_CLIENTS = 16;

/**
 * The slow, obvious Shapley value: build every coalition model explicitly, evaluate its loss on the
 * validation set, and weight marginal contributions. Independent of the Gram trick on purpose; it is the
 * yardstick the encrypted path is tested against.
 */
export function referenceShapley(problem: ValuationProblem): {
  phi: number[];
  utilityEmpty: number;
  utilityAll: number;
} {
  assertValidProblem(problem);
  const n = problem.models.length;
  if (n > MAX_REFERENCE_CLIENTS) {
    throw new InvalidInputError("The explicit reference enumerates 2^n coalition models; too many clients.", {
      details: `n = ${n}, at most ${MAX_REFERENCE_CLIENTS}`,
    });
  }
  const utilities = new Float64Array(1 << n);
  for (let s = 0; s < 1 << n; s++) utilities[s] = coalitionUtility(problem, members(s, n));
  const phi = new Array<number>(n).fill(0);
  for (let s = 0; s < 1 << n; s++) {
    const size = members(s, n).length;
    for (let k = 0; k < n; k++) {
      if (s & (1 << k)) continue;
      phi[k] += shapleyWeight(size, n) * (utilities[s | (1 << k)] - utilities[s]);
    }
  }
  return { phi, utilityEmpty: utilities[0], utilityAll: utilities[(1 << n) - 1] };
}
