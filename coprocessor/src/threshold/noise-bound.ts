import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { CoefficientMap } from "../shapley/coefficients";
import { pairCount, pairOfIndex } from "../shapley/gram";
import { outputBlock, packedTerm, packedTermCount } from "../shapley/encrypted/layout";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { modulusChain } from "./modulus-chain";

/**
 * High-probability bounds on the error e = c0 + c1·s − Δ·m (coefficient ℓ2 norm, "ring units") of the
 * ciphertexts CipherShare releases, as functions of the parameters and of the public inputs of the
 * computation that produced them. Flooding is sized from these (flooding.ts). docs/ckks.md derives them.
 *
 * Model (the usual average-case CKKS analysis): fresh random terms — encryption errors, rounding in
 * rescaling and key switching — are independent with zero mean; a white polynomial with per-coefficient
 * variance v has slot values of variance N·v (complex) and ‖e‖₂² = N·v = mean over slots of |σ_k(e)|²
 * (Parseval, N/2 slots). Where the data enters (products with the models), the worst case over inputs with
 * |w| ≤ W is used, and noise terms that share a source add linearly (no cancellation assumed). Inputs must
 * be honestly encrypted: a contributor who picks its own encryption noise, or a malformed ciphertext, is
 * outside any such bound (docs/privacy.md).
 */
export interface NoiseParameters {
  readonly polyModulusDegree: number;
  /** Δ: the scale of fresh encodings. */
  readonly scale: number;
  /** q_0 … q_L, as doubles (only their sizes matter here). */
  readonly dataPrimes: readonly number[];
  /** P, the key-switching prime. */
  readonly specialPrime: number;
}

export interface NoiseBound {
  readonly computation: "fresh" | "fedavg" | "shapley" | "usage" | "training";
  /** High-probability bound on ‖e‖₂ of the released ciphertext, ring units. Flooding uses this. */
  readonly l2: number;
  /** The model's expected ‖e‖₂ (before the tail factor): what an honest run should measure. */
  readonly expectedL2: number;
  /** Scale of the released ciphertext (value = ring / scale). */
  readonly scale: number;
}

/** SEAL's error distribution: a normal of standard deviation 3.2, clipped at 6σ. */
export const SEAL_NOISE_STD = 3.2;
/** Uniform ternary secret: E[s_i²] = 2/3. */
const TERNARY_SECOND_MOMENT = 2 / 3;
/**
 * ‖e‖₂ of white noise over N ≥ 8192 coefficients concentrates within a few percent of √(N·v); twice that
 * leaves room for the model's approximations.
 */
export const WHITE_NOISE_TAIL = 2;
/**
 * After slot sums the released error is a combination of few random variables (one per Gram entry), with
 * no concentration: bound it at 7.5 standard deviations (P < 2^-40 for a Gaussian-like variable).
 */
export const FEW_VARIABLES_TAIL = 7.5;

export function noiseParameters(ctx: CkksContext): NoiseParameters {
  const { key } = modulusChain(ctx);
  const primes = key.primes.map(Number);
  return {
    polyModulusDegree: ctx.parameterSet.polyModulusDegree,
    scale: ctx.scale,
    dataPrimes: primes.slice(0, -1),
    specialPrime: primes[primes.length - 1],
  };
}

/** Rounding r0 + r1·s with r uniform in [−½, ½] (rescaling, and the division by P that ends key switching). */
export function roundingVariance(p: NoiseParameters): number {
  return (1 + p.polyModulusDegree * TERNARY_SECOND_MOMENT) / 12;
}

/**
 * Public-key encryption: SEAL encrypts zero at the key level (error e0 + u·e + e1·s, u and s ternary) and
 * divides by P with rounding, then adds Δ·m; what is left is the rounding plus the division's remainder.
 */
export function freshVariance(p: NoiseParameters): number {
  const n = p.polyModulusDegree;
  return roundingVariance(p) + (SEAL_NOISE_STD ** 2 * (1 + 2 * n * TERNARY_SECOND_MOMENT)) / p.specialPrime ** 2;
}

/**
 * Key switching (relinearization, rotation) at a level with k data primes: Σ_j d_j·e_j / P plus rounding,
 * d_j the j-th RNS digit (uniform in [0, q_j), second moment q_j²/3) and e_j the key's error.
 */
export function keySwitchVariance(p: NoiseParameters, k: number): number {
  const n = p.polyModulusDegree;
  const digits = p.dataPrimes.slice(0, k).reduce((sum, q) => sum + q ** 2 / 3, 0);
  return (n * SEAL_NOISE_STD ** 2 * digits) / p.specialPrime ** 2 + roundingVariance(p);
}

/** A freshly encrypted ciphertext. */
export function freshNoiseBound(p: NoiseParameters): NoiseBound {
  const expected = Math.sqrt(p.polyModulusDegree * freshVariance(p));
  return { computation: "fresh", l2: WHITE_NOISE_TAIL * expected, expectedL2: expected, scale: p.scale };
}

/**
 * The FedAvg aggregate (fedavg/homomorphic.ts): Σ_i W_i·ct_i with W_i the constant polynomial w_i·Δ_w, then
 * one rescale by q_L (and possibly a modulus switch, which is exact):
 * v = Σ_i (w_i·Δ_w / q_L)²·v_fresh + v_round.
 */
export function fedAvgNoiseBound(
  p: NoiseParameters,
  weights: ArrayLike<number>,
  weightScale: number = p.scale,
): NoiseBound {
  const list = Array.from(weights);
  if (list.length === 0 || list.some((w) => !Number.isFinite(w) || w < 0)) {
    throw new InvalidInputError("FedAvg weights must be finite and non-negative.", { details: list.join(", ") });
  }
  const qL = p.dataPrimes[p.dataPrimes.length - 1];
  const vFresh = freshVariance(p);
  const variance = list.reduce((sum, w) => sum + ((w * weightScale) / qL) ** 2 * vFresh, 0) + roundingVariance(p);
  const expected = Math.sqrt(p.polyModulusDegree * variance);
  return {
    computation: "fedavg",
    l2: WHITE_NOISE_TAIL * expected,
    expectedL2: expected,
    scale: (p.scale * weightScale) / qL,
  };
}

export interface ShapleyNoiseInputs {
  /** The validation kernel's R (d×d) and XᵀY (d×c): public. */
  readonly r: Matrix;
  readonly xty: Matrix;
  readonly map: CoefficientMap;
  /**
   * Key switches of the projection's rotations at the top level (`projectionKeySwitches`): a rotation with its own key
   * is one, a rotation composed from power-of-two keys popcount(step). `babyMax`: the most of any one baby rotation
   * (each rotated copy of w carries its own); `giantTotal`: all giant rotations together (they add into one sum).
   */
  readonly projectionKeySwitches: { readonly babyMax: number; readonly giantTotal: number };
  /** C: every model satisfies ‖w‖_F ≤ C (declared, as FL norm clipping does; see docs/ckks.md). */
  readonly modelNormBound: number;
}

/**
 * Enc(φ) from the Gram pipeline (shapley/encrypted/evaluator.ts). With L + 1 data primes and scale Δ:
 * z_i = (R⊗I)·w_i (diagonals at scale q_L, rescale) at Δ; G_ij = Σ_slots z_i⊙z_j (relinearize, rescale by
 * q_{L−1}, slot sum) and b_i = Σ_slots w_i⊙XᵀY at Δx = Δ²/q_{L−1}; each entry times its mask A_kp (scale
 * q_{L−2}, rescale) and everything summed; φ_k sits in slot k. Per slot k, with value-unit variances:
 *
 * - client i's encryption noise ε_wi, and the projection's key switching and rounding, reach φ_k through
 *   ⟨U_ki, ε_zi⟩ + A_k,bi·⟨XᵀY, ε_wi⟩, U_ki = Σ_j c_ij·A_k,ij·z_j (c_ii = 2): standard deviation at most
 *   Σ_j c_ij|A_k,ij|·‖z‖·s_z + |A_k,bi|·‖XᵀY‖·s_w, where s_z² = ‖R‖_F²·(s_w² + s_rot²) + G·s_giant² + s_rs²
 *   bounds Var⟨U, ε_z⟩/‖U‖² (‖R⊗I‖ ≤ ‖R‖_F) and ‖z‖ = ‖R·w‖_F ≤ ‖R‖_F·C; clients are independent;
 * - each entry's own noise (relinearization and rescale rounding, summed over N/2 slots; the slot sum's
 *   N/2 − 1 key switches at level L − 1) is independent of the others': Σ_p A_kp²·Var_p;
 * - each term's final rescale rounds every slot: (terms)·N·v_round/Δx².
 *
 * Packed terms (layout.ts#packedTerm): entries p, p′ share one ciphertext S = P_p + J·P_p′ (J = ±i√2 in every slot),
 * one relinearization, rescale and window sum, and the released value is 2·Re of M1 ⊙ S + M2 ⊙ J·S
 * (M1 = A_kp/2, M2 = −A_kp′/4). A complex noise e reaches φ_k as α·Re(e) + β·Im(e), so |·| ≤ ‖(α, β)‖·|e|
 * (Cauchy–Schwarz): e in S or in P_p (real channel) has (α, β) = (A_kp, ±A_kp′/√2); e in P_p′ enters as J·e, so
 * (α, β) = (A_kp′, ±√2·A_kp). Client noise of each product is weighted by its norm; the term's own noises (both
 * products' and the shared relinearization, rescale and window sum) are added (no sharing assumed) and weighted by
 * the larger of the two. After the masks, what is added to the total (the terms' rescale rounding, the stride
 * sum's key switching) is doubled by total + conj(total) at worst (‖e + conj e‖ ≤ 2‖e‖: variance × 4), and the
 * conjugation's key switch is added once.
 *
 * ‖e‖₂² = Δx²·(mean over the N/2 slots of those variances); the bound multiplies √ by FEW_VARIABLES_TAIL.
 */
export function shapleyNoiseBound(p: NoiseParameters, inputs: ShapleyNoiseInputs): NoiseBound {
  const { r, xty, map, modelNormBound } = inputs;
  const { babyMax, giantTotal } = inputs.projectionKeySwitches;
  if (!Number.isInteger(babyMax) || babyMax < 1 || !Number.isInteger(giantTotal) || giantTotal < 0) {
    throw new InvalidInputError("Key-switch counts of the projection must be integers (baby ≥ 1, giant ≥ 0).", {
      details: `babyMax ${babyMax}, giantTotal ${giantTotal}`,
    });
  }
  if (!(modelNormBound > 0) || !Number.isFinite(modelNormBound)) {
    throw new InvalidInputError("The model norm bound C must be a positive number.", { details: `${modelNormBound}` });
  }
  if (p.dataPrimes.length < 4) {
    throw new InvalidInputError("Encrypted Shapley needs at least four data primes.", {
      details: `${p.dataPrimes.length}`,
    });
  }
  const n = p.polyModulusDegree;
  const slots = n / 2;
  const q = p.dataPrimes;
  const L = q.length - 1;
  const delta = p.scale;
  const deltaX = (delta * delta) / q[L - 1];
  const vRound = roundingVariance(p);

  // Slot variances in value units (ring variance per coefficient × N / scale²).
  const sw2 = (n * freshVariance(p)) / delta ** 2;
  // A composed rotation's key switches add independent errors (each later rotation only permutes the earlier ones).
  const sRot2 = (babyMax * n * keySwitchVariance(p, L + 1)) / delta ** 2;
  const sGiant2 = (giantTotal * n * keySwitchVariance(p, L + 1)) / (delta * q[L]) ** 2;
  const sRsZ2 = (n * vRound) / delta ** 2;
  const d = r.rows;
  let rFrobenius2 = 0;
  let maxRow2 = 0;
  for (let row = 0; row < d; row++) {
    let squares = 0;
    for (let col = 0; col < d; col++) squares += r.data[row * d + col] ** 2;
    rFrobenius2 += squares;
    maxRow2 = Math.max(maxRow2, squares);
  }
  const sz2 = rFrobenius2 * (sw2 + sRot2) + sGiant2 + sRsZ2;
  // Per-slot variance of z's noise (for the tiny noise × noise term).
  const szSlot2 = maxRow2 * (sw2 + sRot2) + sGiant2 + sRsZ2;
  const zNorm = modelNormBound * Math.sqrt(rFrobenius2);
  let xtyNorm2 = 0;
  for (const v of xty.data) xtyNorm2 += v * v;
  const xtyNorm = Math.sqrt(xtyNorm2);

  // Entry-own noise, before masking (value units at Δx, every slot after the slot sum).
  const slotSumKeySwitch = ((slots - 1) * n * keySwitchVariance(p, L - 1)) / deltaX ** 2;
  const pairOwn =
    (slots * n * (keySwitchVariance(p, L) / q[L - 1] ** 2 + vRound)) / deltaX ** 2 + 4 * slots * szSlot2 ** 2;
  const biasOwn = (slots * n * vRound) / deltaX ** 2;
  // Each masked term's rescale rounds once; the stride sum by B, 2B, … then adds slots/B such roundings in every slot
  // (the window sums' key switching, (B − 1)·slots/B ≤ slots − 1 per entry, stays within slotSumKeySwitch).
  const strides = slots / outputBlock(map.n);
  const terms = packedTermCount(map.entries);
  const finalRounding = (strides * terms * n * vRound) / deltaX ** 2;
  const strideKeySwitch = ((strides - 1) * n * keySwitchVariance(p, L - 2)) / deltaX ** 2;
  const conjugationKeySwitch = (n * keySwitchVariance(p, L - 2)) / deltaX ** 2;
  /** |J|² in every slot (imaginary-unit.ts: J = ±i√2). */
  const unitGain2 = 2;

  const pairs = pairCount(map.n);
  const a = (k: number, entry: number) => map.rows[k * map.entries + entry] / map.outputScale;
  let sumOverOutputs = 0;
  for (let k = 0; k < map.n; k++) {
    let own = 0;
    const perClient = new Float64Array(map.n);
    const perBias = new Float64Array(map.n);
    for (let term = 0; term < terms; term++) {
      const { first, second } = packedTerm(term, map.entries);
      const members = second === undefined ? [first] : [first, second];
      const gain = Math.sqrt(unitGain2);
      const weights =
        second === undefined
          ? [Math.abs(a(k, first))]
          : [Math.hypot(a(k, first), a(k, second) / gain), Math.hypot(a(k, second), gain * a(k, first))];
      let termOwn = slotSumKeySwitch;
      for (const [index, entry] of members.entries()) {
        const weight = weights[index];
        if (entry < pairs) {
          const [i, j] = pairOfIndex(entry, map.n);
          const clientWeight = weight * (i === j ? 2 : 1);
          perClient[i] += clientWeight;
          if (i !== j) perClient[j] += clientWeight;
          termOwn += pairOwn;
        } else {
          perBias[entry - pairs] += weight;
          termOwn += biasOwn;
        }
      }
      own += Math.max(...weights) ** 2 * termOwn;
    }
    let fromClients = 0;
    for (let i = 0; i < map.n; i++) {
      fromClients += (perClient[i] * zNorm * Math.sqrt(sz2) + perBias[i] * xtyNorm * Math.sqrt(sw2)) ** 2;
    }
    sumOverOutputs += fromClients + own;
  }
  // φ_k and its error sit in every slot ≡ k (mod B): each output's error counts once per block.
  const meanSlotVariance =
    (strides * sumOverOutputs + slots * (4 * (finalRounding + strideKeySwitch) + conjugationKeySwitch)) / slots;
  const expected = deltaX * Math.sqrt(meanSlotVariance);
  return { computation: "shapley", l2: FEW_VARIABLES_TAIL * expected, expectedL2: expected, scale: deltaX };
}
