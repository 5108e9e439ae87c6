import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { members, modelUtility, shapleyWeight } from "../shapley/utility";
import { pooledStatistics, ridgeFromStatistics } from "./ridge";
import type { ProviderStatistics, TrainingShape } from "@ciphershare/protocol/training/statistics";

/** Most providers the exact reference enumerates (2^n ridge solves). */
export const MAX_POOLED_SHAPLEY_PROVIDERS = 16;

/**
 * The yardstick of the valuation proxy, in the clear: the exact Shapley value of the pooled ridge model, with
 * U(S) = −MSE on the validation set of W_S = (Σ_{k∈S} A_k + λn_S I)⁻¹ Σ_{k∈S} B_k and U(∅) that of the zero model.
 * Under encryption this would be 2^n masked solves; it exists to measure how well the proxy ranks providers.
 */
export function pooledRidgeShapley(
  stats: readonly ProviderStatistics[],
  shape: TrainingShape,
  lambda: number,
  validation: { x: Matrix; y: Matrix },
): number[] {
  const n = stats.length;
  if (n === 0 || n > MAX_POOLED_SHAPLEY_PROVIDERS) {
    throw new InvalidInputError("The exact pooled-ridge Shapley value enumerates 2^n coalitions.", {
      details: `n = ${n}, between 1 and ${MAX_POOLED_SHAPLEY_PROVIDERS}`,
    });
  }
  const utilities = new Float64Array(1 << n);
  const zero = { rows: shape.features, cols: shape.outputs, data: new Float64Array(shape.features * shape.outputs) };
  for (let s = 0; s < 1 << n; s++) {
    const coalition = members(s, n);
    const model =
      coalition.length === 0
        ? zero
        : ridgeFromStatistics(
            pooledStatistics(
              coalition.map((k) => stats[k]),
              shape,
            ),
            lambda,
          );
    utilities[s] = modelUtility(validation.x, validation.y, model);
  }
  const phi = new Array<number>(n).fill(0);
  for (let s = 0; s < 1 << n; s++) {
    const size = members(s, n).length;
    for (let k = 0; k < n; k++) {
      if (s & (1 << k)) continue;
      phi[k] += shapleyWeight(size, n) * (utilities[s | (1 << k)] - utilities[s]);
    }
  }
  return phi;
}

/** Spearman's rank correlation (average ranks for ties). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length < 2) {
    throw new InvalidInputError("Rank correlation needs two lists of the same length ≥ 2.", {
      details: `${a.length} and ${b.length}`,
    });
  }
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length + 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - mean) * (rb[i] - mean);
    da += (ra[i] - mean) ** 2;
    db += (rb[i] - mean) ** 2;
  }
  return num / Math.sqrt(da * db);
}

function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((x, y) => x.v - y.v);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1].v === order[start].v) end++;
    for (let j = start; j <= end; j++) out[order[j].i] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return out;
}
