import { InvalidInputError } from "@ciphershare/protocol/errors";
import {
  type Matrix,
  dot,
  multiply,
  transposeMultiply,
  upperTriangularFactor,
} from "@ciphershare/protocol/linalg/matrix";
import { type ValuationProblem, assertValidProblem, modelUtility } from "./utility";

/**
 * What the validation set contributes, computed once in plaintext by whoever holds X and Y:
 * R with XᵀX = RᵀR (so ⟨X w_i, X w_j⟩ = ⟨R w_i, R w_j⟩ and the n_v dimension disappears), XᵀY,
 * ‖Y‖², the normaliser n_v·c and U(∅) = utility of the public base model.
 */
export interface ValidationKernel {
  readonly r: Matrix;
  readonly xty: Matrix;
  readonly yNormSquared: number;
  readonly normalizer: number;
  readonly utilityEmpty: number;
}

export function validationKernel(x: Matrix, y: Matrix, base: Matrix): ValidationKernel {
  return {
    r: upperTriangularFactor(x),
    xty: transposeMultiply(x, y),
    yNormSquared: dot(y.data, y.data),
    normalizer: y.rows * y.cols,
    utilityEmpty: modelUtility(x, y, base),
  };
}

/**
 * The Gram vector layout shared by the plaintext and encrypted paths: first G_ij = ⟨z_i, z_j⟩ for
 * i ≤ j in row-major upper-triangular order, then b_i = ⟨z_i, Y⟩ = ⟨w_i, XᵀY⟩.
 */
export function pairCount(n: number): number {
  return (n * (n + 1)) / 2;
}

export function entryCount(n: number): number {
  return pairCount(n) + n;
}

export function pairIndex(i: number, j: number, n: number): number {
  const [lo, hi] = i <= j ? [i, j] : [j, i];
  return lo * n - (lo * (lo - 1)) / 2 + (hi - lo);
}

/** Inverse of `pairIndex`: the pair (i, j), i ≤ j, stored at `index`. */
export function pairOfIndex(index: number, n: number): [number, number] {
  let i = 0;
  let rowStart = 0;
  while (index >= rowStart + (n - i)) {
    rowStart += n - i;
    i++;
  }
  return [i, i + index - rowStart];
}

export function biasIndex(i: number, n: number): number {
  return pairCount(n) + i;
}

/** Calls `visit(i, j, index)` for every pair i ≤ j in layout order. */
export function forEachPair(n: number, visit: (i: number, j: number, index: number) => void): void {
  let index = 0;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) visit(i, j, index++);
}

/** The plaintext Gram vector [G (upper triangle); b] of the client models. */
export function gramVector(kernel: ValidationKernel, models: readonly Matrix[]): Float64Array {
  const n = models.length;
  const z = models.map((w) => multiply(kernel.r, w).data);
  const out = new Float64Array(entryCount(n));
  forEachPair(n, (i, j, index) => (out[index] = dot(z[i], z[j])));
  for (let i = 0; i < n; i++) out[biasIndex(i, n)] = dot(models[i].data, kernel.xty.data);
  return out;
}

/**
 * U(S) from the Gram vector alone: with α_i = m_i / Σ_{j∈S} m_j,
 * U(S) = −(1/(n_v·c)) (Σ_{i,j∈S} α_i α_j G_ij − 2 Σ_{i∈S} α_i b_i + ‖Y‖²), and U(∅) from the kernel.
 */
export function utilityFromGram(
  kernel: ValidationKernel,
  gram: Float64Array,
  sampleCounts: readonly number[],
  coalition: readonly number[],
): number {
  const n = sampleCounts.length;
  if (gram.length !== entryCount(n)) {
    throw new InvalidInputError("The Gram vector does not match the number of clients.", {
      details: `${gram.length} entries for n = ${n}, expected ${entryCount(n)}`,
    });
  }
  if (coalition.length === 0) return kernel.utilityEmpty;
  const total = coalition.reduce((sum, i) => sum + sampleCounts[i], 0);
  let quadratic = 0;
  let linear = 0;
  for (const i of coalition) {
    const ai = sampleCounts[i] / total;
    linear += ai * gram[biasIndex(i, n)];
    for (const j of coalition) quadratic += ai * (sampleCounts[j] / total) * gram[pairIndex(i, j, n)];
  }
  return -(quadratic - 2 * linear + kernel.yNormSquared) / kernel.normalizer;
}

/** Convenience for the plaintext path: kernel and Gram vector of a whole problem. */
export function gramOfProblem(problem: ValuationProblem): { kernel: ValidationKernel; gram: Float64Array } {
  assertValidProblem(problem);
  const kernel = validationKernel(problem.x, problem.y, problem.base);
  return { kernel, gram: gramVector(kernel, problem.models) };
}
