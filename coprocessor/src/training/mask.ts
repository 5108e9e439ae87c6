import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import type { GaloisKeys } from "@ciphershare/protocol/ckks/seal";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { multiply, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import { SecureRandom } from "../random/secure-random";
import type { EncryptedMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { leftMultiply, rightMultiply } from "./products";
import type { TrainingShape } from "@ciphershare/protocol/training/statistics";

/**
 * The coprocessor's secret mask of one round: the custodian decrypts α·M·[A+λnI | B]·blockdiag(N, S), never
 * [A | B] itself. M, N are d×d and S c×c orthogonal, α > 0. Both sides are needed: with M alone the custodian
 * would see MA and (MA)ᵀ(MA) = A², which gives A exactly (its positive semidefinite square root); with N alone,
 * AN and (AN)(AN)ᵀ = A² likewise. Only the two-sided product hides A's eigenvectors.
 */
export interface TrainingMask {
  readonly alpha: number;
  readonly m: Matrix;
  readonly n: Matrix;
  readonly s: Matrix;
}

/** A Haar-random orthogonal matrix: Gram–Schmidt (twice, for stability) of a Gaussian matrix's columns. */
export function randomOrthogonal(size: number, random: { nextNormal(): number }): Matrix {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new InvalidInputError("An orthogonal matrix needs a positive size.", { details: `${size}` });
  }
  // Columns as rows of `q` (so each is contiguous), transposed at the end.
  const q = new Float64Array(size * size);
  for (let i = 0; i < q.length; i++) q[i] = random.nextNormal();
  for (let k = 0; k < size; k++) {
    const column = q.subarray(k * size, (k + 1) * size);
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < k; j++) {
        const other = q.subarray(j * size, (j + 1) * size);
        let projection = 0;
        for (let i = 0; i < size; i++) projection += column[i] * other[i];
        for (let i = 0; i < size; i++) column[i] -= projection * other[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < size; i++) norm += column[i] * column[i];
    norm = Math.sqrt(norm);
    if (!(norm > 1e-8)) return randomOrthogonal(size, random); // a degenerate draw: probability ~0
    for (let i = 0; i < size; i++) column[i] /= norm;
  }
  return transpose({ rows: size, cols: size, data: q });
}

/**
 * Draws a fresh mask from the operating system's CSPRNG. α is uniform in [1, 2) divided by the total row count, so
 * the masked entries stay of the order of one row's statistics whatever n is, and the custodian learns the
 * spectrum of A + λnI only up to this unknown factor.
 */
export function drawMask(shape: TrainingShape, totalRows: number, random = new SecureRandom()): TrainingMask {
  if (!Number.isSafeInteger(totalRows) || totalRows < 1) {
    throw new InvalidInputError("The total row count must be a positive integer.", { details: `${totalRows}` });
  }
  return {
    alpha: (1 + random.nextFloat()) / totalRows,
    m: randomOrthogonal(shape.features, random),
    n: randomOrthogonal(shape.features, random),
    s: randomOrthogonal(shape.outputs, random),
  };
}

/**
 * Refuses a mask that would release a one-sided (or unmasked) product: α must be a positive finite number, M, N and
 * S orthogonal, and none of M, N (nor S when c ≥ 2) a signed permutation — the identity being the obvious one —
 * since a signed permutation only reorders and flips the entries it should hide.
 */
export function assertTwoSidedMask(mask: TrainingMask, shape: TrainingShape): void {
  if (!Number.isFinite(mask.alpha) || mask.alpha <= 0) {
    throw new InvalidInputError("The mask's scalar α must be a positive finite number.", {
      details: `α = ${mask.alpha}`,
    });
  }
  const check = (name: string, q: Matrix, size: number) => {
    if (q.rows !== size || q.cols !== size) {
      throw new InvalidInputError(`The mask's ${name} has the wrong shape.`, {
        details: `${q.rows}×${q.cols}, expected ${size}×${size}`,
      });
    }
    const defect = orthogonalityDefect(q);
    if (!(defect < 1e-9)) {
      throw new InvalidInputError(`The mask's ${name} is not orthogonal.`, {
        details: `‖${name}ᵀ${name} − I‖ = ${defect}`,
      });
    }
    if (size >= 2 && isSignedPermutation(q)) {
      throw new InvalidInputError(`The mask's ${name} is a signed permutation: the product would be one-sided.`, {
        details: `${name} only reorders and flips entries`,
      });
    }
  };
  check("M", mask.m, shape.features);
  check("N", mask.n, shape.features);
  check("S", mask.s, shape.outputs);
}

/**
 * Enc(α·M·[A+λnI | B]·blockdiag(N, S)) from Enc([A+λnI | B]): two plaintext × ciphertext products, two levels,
 * always both. This is the only output of a training round the custodian decrypts.
 */
export function maskedSystem(
  ctx: CkksContext,
  galoisKeys: GaloisKeys,
  system: EncryptedMatrix,
  mask: TrainingMask,
  shape: TrainingShape,
): EncryptedMatrix {
  assertTwoSidedMask(mask, shape);
  const left = leftMultiply(ctx, galoisKeys, scaled(mask.m, mask.alpha), system);
  try {
    return rightMultiply(ctx, galoisKeys, left, blockDiagonal(mask.n, mask.s));
  } finally {
    left.dispose();
  }
}

/** Enc_buyer(W) = N·U·Sᵀ from the custodian's Enc_buyer(U): the unmask, under the buyer's key. */
export function unmaskModel(
  ctx: CkksContext,
  buyerGaloisKeys: GaloisKeys,
  u: EncryptedMatrix,
  mask: TrainingMask,
  shape: TrainingShape,
): EncryptedMatrix {
  assertTwoSidedMask(mask, shape);
  const left = leftMultiply(ctx, buyerGaloisKeys, mask.n, u);
  try {
    return rightMultiply(ctx, buyerGaloisKeys, left, transpose(mask.s));
  } finally {
    left.dispose();
  }
}

/** The custodian's view in the clear, for tests and the reference: α·M·P·blockdiag(N, S). */
export function maskPlaintext(system: Matrix, mask: TrainingMask): Matrix {
  return multiply(scaled(mask.m, mask.alpha), multiply(system, blockDiagonal(mask.n, mask.s)));
}

export function blockDiagonal(top: Matrix, bottom: Matrix): Matrix {
  const size = top.rows + bottom.rows;
  const data = new Float64Array(size * size);
  for (let r = 0; r < top.rows; r++) data.set(top.data.subarray(r * top.cols, (r + 1) * top.cols), r * size);
  for (let r = 0; r < bottom.rows; r++) {
    data.set(bottom.data.subarray(r * bottom.cols, (r + 1) * bottom.cols), (top.rows + r) * size + top.cols);
  }
  return { rows: size, cols: size, data };
}

export function transpose(m: Matrix): Matrix {
  const data = new Float64Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) data[c * m.rows + r] = m.data[r * m.cols + c];
  return { rows: m.cols, cols: m.rows, data };
}

function scaled(m: Matrix, factor: number): Matrix {
  return { rows: m.rows, cols: m.cols, data: m.data.map((v) => v * factor) };
}

/** max |QᵀQ − I| entry. */
export function orthogonalityDefect(q: Matrix): number {
  let worst = 0;
  for (let i = 0; i < q.cols; i++) {
    for (let j = i; j < q.cols; j++) {
      let dot = 0;
      for (let r = 0; r < q.rows; r++) dot += q.data[r * q.cols + i] * q.data[r * q.cols + j];
      worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

function isSignedPermutation(q: Matrix): boolean {
  return q.data.every((v) => Math.abs(v) < 1e-9 || Math.abs(Math.abs(v) - 1) < 1e-9);
}
