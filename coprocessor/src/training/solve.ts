import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";

/**
 * X = P⁻¹Q for a square P (d×d) and Q (d×c), by LU decomposition with partial pivoting in float64. Throws when P
 * is singular to working precision (a pivot below `1e-13 ×` the largest entry of P), naming the column.
 */
export function solveLinearSystem(p: Matrix, q: Matrix): Matrix {
  const d = p.rows;
  if (p.cols !== d || q.rows !== d) {
    throw new InvalidInputError("A linear system needs a square P and a right-hand side with as many rows.", {
      details: `P is ${p.rows}×${p.cols}, Q is ${q.rows}×${q.cols}`,
    });
  }
  const c = q.cols;
  const lu = Float64Array.from(p.data);
  const x = Float64Array.from(q.data);
  const largest = lu.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const tiny = largest * 1e-13;
  for (let k = 0; k < d; k++) {
    let pivotRow = k;
    for (let r = k + 1; r < d; r++) if (Math.abs(lu[r * d + k]) > Math.abs(lu[pivotRow * d + k])) pivotRow = r;
    const pivot = lu[pivotRow * d + k];
    if (!(Math.abs(pivot) > tiny)) {
      throw new InvalidInputError("The linear system is singular to working precision.", {
        details: `column ${k}: pivot ${pivot} against the largest entry ${largest}`,
      });
    }
    if (pivotRow !== k) {
      swapRows(lu, d, k, pivotRow);
      swapRows(x, c, k, pivotRow);
    }
    for (let r = k + 1; r < d; r++) {
      const factor = lu[r * d + k] / pivot;
      if (factor === 0) continue;
      for (let j = k + 1; j < d; j++) lu[r * d + j] -= factor * lu[k * d + j];
      for (let j = 0; j < c; j++) x[r * c + j] -= factor * x[k * c + j];
    }
  }
  for (let k = d - 1; k >= 0; k--) {
    const pivot = lu[k * d + k];
    for (let j = 0; j < c; j++) {
      let value = x[k * c + j];
      for (let i = k + 1; i < d; i++) value -= lu[k * d + i] * x[i * c + j];
      x[k * c + j] = value / pivot;
    }
  }
  return { rows: d, cols: c, data: x };
}

function swapRows(data: Float64Array, width: number, a: number, b: number): void {
  for (let j = 0; j < width; j++) {
    const t = data[a * width + j];
    data[a * width + j] = data[b * width + j];
    data[b * width + j] = t;
  }
}
