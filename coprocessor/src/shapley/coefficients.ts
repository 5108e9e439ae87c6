import { SeededRandom } from "../random/seeded-random";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { biasIndex, entryCount, forEachPair, pairCount, pairIndex, type ValidationKernel } from "./gram";
import { integralCoefficientRows } from "./integral-coefficients";
import { assertSampleCounts, shapleyWeight } from "./utility";

/** The public numbers of the validation set that enter φ: n_v·c, ‖Y‖² and U(∅). */
export type UtilityConstants = Pick<ValidationKernel, "normalizer" | "yNormSquared" | "utilityEmpty">;

/**
 * φ as a plaintext linear map of the Gram vector x = [G upper triangle; b]: φ = A·x + constant.
 * `rows` is the one map that is evaluated (under encryption) and released: n × entries, row-major. It is
 * the exact A, or for a sampled map the mean of its B batch maps (= the map of all its permutations
 * together). A depends only on the public sample counts and n_v·c (and, when sampled, the public seed).
 */
export interface CoefficientMap {
  readonly n: number;
  readonly entries: number;
  /** Independent batches the sampled permutations were split into; 1 for the exact map. */
  readonly batches: number;
  /** The map φ = rows·x + constant (n × entries). */
  readonly rows: Float64Array;
  /**
   * Sampled maps only: the B batch maps A_b (B × n × entries, batch after batch), whose mean is `rows`.
   * Public like `rows`; their spread is the standard error of the sampled coefficients
   * (`coefficientStandardError`). They are never applied to encrypted data or released as φ estimates.
   */
  readonly batchRows?: Float64Array;
  readonly constant: Float64Array;
  readonly method: "exact" | "sampled";
  readonly permutations?: number;
  /**
   * Power of two the encrypted path divides φ by before it lands in the final ciphertext (and the
   * custodian multiplies back): the last CKKS level of deep-v1 only holds values below about 2^9 (deep-v2: 2^18).
   */
  readonly outputScale: number;
}

/**
 * Utilities are minus mean squared errors, so |φ_k| is of the order of |U(∅)| + ‖Y‖²/(n_v·c); keep that
 * magnitude (with margin) below 2^5 in the encrypted output.
 */
function outputScaleFor(constants: UtilityConstants): number {
  const magnitude = Math.abs(constants.utilityEmpty) + constants.yNormSquared / constants.normalizer;
  return 2 ** Math.max(0, Math.ceil(Math.log2(Math.max(magnitude, 1e-300))) + 1 - 5);
}

/**
 * Largest n for the exact map (`exactCoefficientMap`, the integral form): about 20 s on one core at
 * n = 300, growing like n⁴. Above it only sampling is offered.
 */
export const MAX_EXACT_CLIENTS = 300;

/** Largest n for `subsetCoefficientMap`, which enumerates all 2^n coalitions. */
export const MAX_SUBSET_CLIENTS = 22;

/**
 * U(S) for S ≠ ∅ contributes −‖Y‖²/(n_v·c) and U(∅) is a public constant, so the constant of φ_k is
 * Σ_S β_{k,S}·K_S = (−‖Y‖²/(n_v·c) − U(∅))/n (the Shapley weights β_{k,·} sum to zero, β_{k,∅} = −1/n).
 */
function shapleyConstant(constants: UtilityConstants, n: number): Float64Array {
  return new Float64Array(n).fill((-constants.yNormSquared / constants.normalizer - constants.utilityEmpty) / n);
}

function exactMap(rows: Float64Array, n: number, constants: UtilityConstants): CoefficientMap {
  return {
    n,
    entries: entryCount(n),
    batches: 1,
    rows,
    constant: shapleyConstant(constants, n),
    method: "exact",
    outputScale: outputScaleFor(constants),
  };
}

/**
 * The exact map A for up to `MAX_EXACT_CLIENTS` clients, by the integral form of the coalition sums
 * (`integralCoefficientRows`, docs/shapley.md): no coalition is enumerated, every entry is accurate to
 * about 1e-15 relative. This is the map rounds, `valueContributions` and the CLI evaluate.
 */
export function exactCoefficientMap(sampleCounts: readonly number[], constants: UtilityConstants): CoefficientMap {
  assertSampleCounts(sampleCounts);
  const n = sampleCounts.length;
  if (n > MAX_EXACT_CLIENTS) {
    throw new InvalidInputError("Too many clients for exact Shapley coefficients; use sampling.", {
      details: `n = ${n}, exact supports at most ${MAX_EXACT_CLIENTS}`,
    });
  }
  return exactMap(integralCoefficientRows(sampleCounts, constants.normalizer), n, constants);
}

/**
 * The exact map by enumerating all 2^n coalitions, in O(n·2^n) with superset sums: the test oracle of
 * `exactCoefficientMap` for n ≤ 20. Its entries are differences of two coalition sums, so an entry much
 * smaller than its row loses relative precision (e.g. 1e-9 with sample counts 1 and 10⁶); row-wise it
 * agrees with the integral form to ~1e-15.
 *
 * Write U(S) = Σ_p q_p·μ_p·g_p(S)·[supp(p) ⊆ S] + K_S, where for a pair p = (i,j):
 * q_p = −(2 − [i=j])/(n_v·c), μ_p = m_i·m_j, g_p(S) = 1/M_S², and for b_i: q = 2/(n_v·c), μ = m_i,
 * g(S) = 1/M_S, M_S = Σ_{j∈S} m_j. The Shapley weight of U(S) in φ_k is
 * β_{k,S} = [k∈S]·(w_in(|S|) + w_out(|S|)) − w_out(|S|), with w_in(s) = (s−1)!(n−s)!/n! and
 * w_out(s) = s!(n−s−1)!/n!. Hence A[k,p] = q_p·μ_p·(Z_{(w_in+w_out)·g}(supp(p) ∪ {k}) − Z_{w_out·g}(supp(p)))
 * where Z_h(T) = Σ_{S ⊇ T} h(S) is a superset-sum transform of a function on the 2^n coalitions.
 */
export function subsetCoefficientMap(sampleCounts: readonly number[], constants: UtilityConstants): CoefficientMap {
  assertSampleCounts(sampleCounts);
  const n = sampleCounts.length;
  if (n > MAX_SUBSET_CLIENTS) {
    throw new InvalidInputError("The subset map enumerates 2^n coalitions; too many clients.", {
      details: `n = ${n}, the subset map supports at most ${MAX_SUBSET_CLIENTS}`,
    });
  }
  const size = 1 << n;
  const total = new Float64Array(size);
  const members = new Uint8Array(size);
  const inPair = new Float64Array(size);
  const outPair = new Float64Array(size);
  const inBias = new Float64Array(size);
  const outBias = new Float64Array(size);
  const wIn = new Float64Array(n + 1);
  const wOut = new Float64Array(n + 1);
  for (let s = 1; s <= n; s++) {
    wIn[s] = shapleyWeight(s - 1, n);
    wOut[s] = s < n ? shapleyWeight(s, n) : 0;
  }
  for (let s = 1; s < size; s++) {
    const low = 31 - Math.clz32(s & -s);
    const rest = s & (s - 1);
    total[s] = total[rest] + sampleCounts[low];
    members[s] = members[rest] + 1;
    const g1 = 1 / total[s];
    const g2 = g1 * g1;
    const both = wIn[members[s]] + wOut[members[s]];
    inPair[s] = both * g2;
    outPair[s] = wOut[members[s]] * g2;
    inBias[s] = both * g1;
    outBias[s] = wOut[members[s]] * g1;
  }
  for (const table of [inPair, outPair, inBias, outBias]) supersetSums(table, n);

  const entries = entryCount(n);
  const rows = new Float64Array(n * entries);
  const pairScale = -1 / constants.normalizer;
  const biasScale = 2 / constants.normalizer;
  for (let k = 0; k < n; k++) {
    const row = k * entries;
    const kBit = 1 << k;
    forEachPair(n, (i, j, index) => {
      const support = (1 << i) | (1 << j);
      const q = (i === j ? 1 : 2) * pairScale * sampleCounts[i] * sampleCounts[j];
      rows[row + index] = q * (inPair[support | kBit] - outPair[support]);
    });
    for (let i = 0; i < n; i++) {
      const support = 1 << i;
      rows[row + biasIndex(i, n)] = biasScale * sampleCounts[i] * (inBias[support | kBit] - outBias[support]);
    }
  }
  return exactMap(rows, n, constants);
}

/** In place: f(T) ← Σ_{S ⊇ T} f(S). */
function supersetSums(f: Float64Array, n: number): void {
  for (let bit = 0; bit < n; bit++) {
    const b = 1 << bit;
    for (let s = 0; s < f.length; s++) if (!(s & b)) f[s] += f[s | b];
  }
}

export interface SamplingOptions {
  /** Total permutations, split evenly over the batches (rounded up to an even count per batch). */
  readonly permutations: number;
  /** Independent batches; the spread of their maps gives the coefficients' standard error. At least 2. */
  readonly batches?: number;
  readonly seed?: number;
}

export const DEFAULT_BATCHES = 10;

/**
 * Monte Carlo permutation sampling of the coefficient map. For each sampled permutation π and each
 * position, the marginal contribution U(P ∪ {k}) − U(P) is a known linear form in the Gram vector, so
 * its coefficients are accumulated instead of a utility value; this is O(n³) plaintext work per
 * permutation and the HE cost does not depend on the number of samples. Permutations come in antithetic
 * pairs (π and its reverse), which lowers the variance. The constant term uses its exact expectation, so
 * Σ_k φ̂_k = U(N) − U(∅) holds exactly for every batch and for the mean.
 *
 * The permutations are split into B batches of equal size; `batchRows` keeps each batch's map and `rows`
 * is their mean, which is also the map of all permutations together. Only `rows` is ever evaluated.
 */
export function sampledCoefficientMap(
  sampleCounts: readonly number[],
  constants: UtilityConstants,
  options: SamplingOptions,
): CoefficientMap {
  assertSampleCounts(sampleCounts);
  const n = sampleCounts.length;
  const batches = options.batches ?? DEFAULT_BATCHES;
  if (!Number.isInteger(batches) || batches < 2) {
    throw new InvalidInputError("Sampling needs at least 2 batches to estimate its standard error.", {
      details: `batches = ${batches}`,
    });
  }
  if (!Number.isInteger(options.permutations) || options.permutations < 1) {
    throw new InvalidInputError("The number of sampled permutations must be a positive integer.", {
      details: `permutations = ${options.permutations}`,
    });
  }
  const perBatch = 2 * Math.ceil(options.permutations / batches / 2);
  const random = new SeededRandom(options.seed ?? 1);
  const entries = entryCount(n);
  const batchRows = new Float64Array(batches * n * entries);
  const pairWeight = new Float64Array(pairCount(n));
  forEachPair(n, (i, j, index) => {
    pairWeight[index] = (-(i === j ? 1 : 2) * sampleCounts[i] * sampleCounts[j]) / constants.normalizer;
  });
  const biasWeight = sampleCounts.map((m) => (2 * m) / constants.normalizer);
  const order = Array.from({ length: n }, (_, i) => i);
  const reversed = new Array<number>(n);

  const accumulate = (batchOffset: number, permutation: readonly number[]) => {
    let previousTotal = 0;
    for (let t = 0; t < n; t++) {
      const k = permutation[t];
      const currentTotal = previousTotal + sampleCounts[k];
      const g1 = 1 / currentTotal;
      const g2 = g1 * g1;
      const dg1 = t === 0 ? 0 : g1 - 1 / previousTotal;
      const dg2 = t === 0 ? 0 : g2 - 1 / (previousTotal * previousTotal);
      const row = batchOffset + k * entries;
      for (let a = 0; a < t; a++) {
        const i = permutation[a];
        for (let b = a; b < t; b++) {
          const index = pairIndex(i, permutation[b], n);
          batchRows[row + index] += pairWeight[index] * dg2;
        }
        const withK = pairIndex(i, k, n);
        batchRows[row + withK] += pairWeight[withK] * g2;
        batchRows[row + biasIndex(i, n)] += biasWeight[i] * dg1;
      }
      const kk = pairIndex(k, k, n);
      batchRows[row + kk] += pairWeight[kk] * g2;
      batchRows[row + biasIndex(k, n)] += biasWeight[k] * g1;
      previousTotal = currentTotal;
    }
  };

  for (let batch = 0; batch < batches; batch++) {
    const offset = batch * n * entries;
    for (let draw = 0; draw < perBatch / 2; draw++) {
      for (let i = n - 1; i > 0; i--) {
        const j = random.nextInt(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let i = 0; i < n; i++) reversed[i] = order[n - 1 - i];
      accumulate(offset, order);
      accumulate(offset, reversed);
    }
    for (let k = offset; k < offset + n * entries; k++) batchRows[k] /= perBatch;
  }
  const rows = new Float64Array(n * entries);
  for (let batch = 0; batch < batches; batch++) {
    const offset = batch * n * entries;
    for (let e = 0; e < rows.length; e++) rows[e] += batchRows[offset + e] / batches;
  }
  return {
    n,
    entries,
    batches,
    rows,
    batchRows,
    constant: shapleyConstant(constants, n),
    method: "sampled",
    outputScale: outputScaleFor(constants),
    permutations: perBatch * batches,
  };
}

function assertGramMatches(map: CoefficientMap, gram: Float64Array): void {
  if (gram.length !== map.entries) {
    throw new InvalidInputError("The Gram vector does not match the coefficient map.", {
      details: `${gram.length} entries, map expects ${map.entries}`,
    });
  }
}

/** rows[offset…]·x + constant: one n × entries block of coefficients applied to the Gram vector. */
function applyRows(map: CoefficientMap, rows: Float64Array, offset: number, gram: Float64Array): Float64Array {
  const phi = Float64Array.from(map.constant);
  for (let k = 0; k < map.n; k++) {
    const row = offset + k * map.entries;
    let sum = 0;
    for (let p = 0; p < map.entries; p++) sum += rows[row + p] * gram[p];
    phi[k] += sum;
  }
  return phi;
}

/** φ = A·x + constant with the map's one released matrix (exact A or the sampled mean map). */
export function applyCoefficientMap(map: CoefficientMap, gram: Float64Array): Float64Array {
  assertGramMatches(map, gram);
  return applyRows(map, map.rows, 0, gram);
}

/**
 * φ_b = A_b·x + constant for every batch map of a sampled map (the exact map is its own single batch).
 * Plaintext only: on private data these B·n numbers would be more linear functionals of x than φ.
 */
export function applyBatchMaps(map: CoefficientMap, gram: Float64Array): Float64Array[] {
  assertGramMatches(map, gram);
  if (!map.batchRows) return [applyRows(map, map.rows, 0, gram)];
  const block = map.n * map.entries;
  return Array.from({ length: map.batches }, (_, b) => applyRows(map, map.batchRows!, b * block, gram));
}

/**
 * The standard error of a sampled map's coefficients, computed from its public batch maps only (no data):
 * se_{k,p} = sqrt(Σ_b (A_b[k,p] − Ā[k,p])² / (B(B−1))), the usual estimate of the standard deviation of
 * the mean map Ā's entry around the exact A[k,p].
 */
export interface CoefficientStandardError {
  /**
   * Per output k: ‖se_{k,·}‖₂. By Cauchy–Schwarz the batch standard error of φ̂_k on any Gram vector x is
   * at most this times ‖x‖₂ (‖x‖₂ is private; a public bound on it turns this into a public bound).
   */
  readonly norm: number[];
  /** Per output k: ‖se_{k,·}‖₂ / ‖Ā_{k,·}‖₂, the relative sampling error of output k's coefficient row. */
  readonly relative: number[];
  /** max_k of `relative`: one number summarising how precise the sampled coefficients are. */
  readonly maxRelative: number;
}

export function coefficientStandardError(map: CoefficientMap): CoefficientStandardError | undefined {
  if (!map.batchRows || map.batches < 2) return undefined;
  const { n, entries, batches, rows, batchRows } = map;
  const norm = new Array<number>(n).fill(0);
  const relative = new Array<number>(n).fill(0);
  for (let k = 0; k < n; k++) {
    let squares = 0;
    let meanSquares = 0;
    for (let p = 0; p < entries; p++) {
      const at = k * entries + p;
      meanSquares += rows[at] ** 2;
      for (let b = 0; b < batches; b++) squares += (batchRows[b * n * entries + at] - rows[at]) ** 2;
    }
    norm[k] = Math.sqrt(squares / (batches * (batches - 1)));
    relative[k] = meanSquares > 0 ? norm[k] / Math.sqrt(meanSquares) : 0;
  }
  return { norm, relative, maxRelative: Math.max(...relative) };
}

export interface ShapleyEstimate {
  readonly phi: number[];
  /** Standard error of each φ_k over the batches; zeros for the exact map. */
  readonly standardError: number[];
}

/** Mean of the batch estimates and its standard error sqrt(Σ_b (φ_b − φ̄)² / (B(B−1))). */
export function combineBatches(batchEstimates: readonly ArrayLike<number>[]): ShapleyEstimate {
  const batches = batchEstimates.length;
  if (batches === 0) throw new InvalidInputError("No batch estimates to combine.");
  const n = batchEstimates[0].length;
  const phi = new Array<number>(n).fill(0);
  const standardError = new Array<number>(n).fill(0);
  for (const estimate of batchEstimates) for (let k = 0; k < n; k++) phi[k] += estimate[k] / batches;
  if (batches > 1) {
    for (let k = 0; k < n; k++) {
      let squares = 0;
      for (const estimate of batchEstimates) squares += (estimate[k] - phi[k]) ** 2;
      standardError[k] = Math.sqrt(squares / (batches * (batches - 1)));
    }
  }
  return { phi, standardError };
}
