import { InvalidInputError } from "@ciphershare/protocol/errors";

/** A dense row-major float64 matrix: entry (r, col) is `data[r * cols + col]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows <= 0 || cols <= 0) {
    throw new InvalidInputError("Matrix dimensions must be positive integers.", { details: `${rows}×${cols}` });
  }
  if (data !== undefined && data.length !== rows * cols) {
    throw new InvalidInputError("Matrix data length does not match its shape.", {
      details: `${rows}×${cols} needs ${rows * cols} values, got ${data.length}`,
    });
  }
  return { rows, cols, data: data === undefined ? new Float64Array(rows * cols) : Float64Array.from(data) };
}

/** A·B, with an i-k-j loop so the inner loop runs over contiguous memory. */
export function multiply(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) {
    throw new InvalidInputError("Matrix shapes do not chain.", {
      details: `${a.rows}×${a.cols} · ${b.rows}×${b.cols}`,
    });
  }
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    const outRow = i * b.cols;
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      if (aik === 0) continue;
      const bRow = k * b.cols;
      for (let j = 0; j < b.cols; j++) out[outRow + j] += aik * b.data[bRow + j];
    }
  }
  return { rows: a.rows, cols: b.cols, data: out };
}

/** Aᵀ·B without forming Aᵀ. */
export function transposeMultiply(a: Matrix, b: Matrix): Matrix {
  if (a.rows !== b.rows) {
    throw new InvalidInputError("Matrix shapes do not chain.", {
      details: `(${a.rows}×${a.cols})ᵀ · ${b.rows}×${b.cols}`,
    });
  }
  const out = new Float64Array(a.cols * b.cols);
  for (let r = 0; r < a.rows; r++) {
    for (let i = 0; i < a.cols; i++) {
      const ari = a.data[r * a.cols + i];
      if (ari === 0) continue;
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j] += ari * b.data[r * b.cols + j];
    }
  }
  return { rows: a.cols, cols: b.cols, data: out };
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/**
 * The d×d upper-triangular factor R of a Householder QR of X (n×d), so that XᵀX = RᵀR and
 * ‖X v‖ = ‖R v‖ for every v. Householder reflections stay stable when X is rank-deficient (MNIST's
 * always-blank border pixels), where a Cholesky factorisation of XᵀX would break down. When n < d the
 * trailing rows of R are zero, which keeps it square and upper-triangular.
 */
export function upperTriangularFactor(x: Matrix): Matrix {
  const n = x.rows;
  const d = x.cols;
  // Work column-major so each reflection touches contiguous memory.
  const a = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let col = 0; col < d; col++) a[col * n + r] = x.data[r * d + col];
  const steps = Math.min(n, d);
  const v = new Float64Array(n);
  for (let k = 0; k < steps; k++) {
    const colK = k * n;
    let norm = 0;
    for (let r = k; r < n; r++) norm += a[colK + r] * a[colK + r];
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = a[colK + k] > 0 ? -norm : norm;
    for (let r = k; r < n; r++) v[r] = a[colK + r];
    v[k] -= alpha;
    let vNorm2 = 0;
    for (let r = k; r < n; r++) vNorm2 += v[r] * v[r];
    if (vNorm2 === 0) continue;
    for (let col = k; col < d; col++) {
      const base = col * n;
      let proj = 0;
      for (let r = k; r < n; r++) proj += v[r] * a[base + r];
      const factor = (2 * proj) / vNorm2;
      if (factor === 0) continue;
      for (let r = k; r < n; r++) a[base + r] -= factor * v[r];
    }
  }
  const out = new Float64Array(d * d);
  for (let r = 0; r < steps; r++) for (let col = r; col < d; col++) out[r * d + col] = a[col * n + r];
  return { rows: d, cols: d, data: out };
}
