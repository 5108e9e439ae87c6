import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { solveLinearSystem } from "./solve";
import {
  assertStatistics,
  type ProviderStatistics,
  type TrainingShape,
} from "@ciphershare/protocol/training/statistics";

/** Checks a ridge penalty: finite and ≥ 0 (0 only when the pooled XᵀX is invertible). */
export function assertLambda(lambda: number): void {
  if (!Number.isFinite(lambda) || lambda < 0) {
    throw new InvalidInputError("The ridge penalty λ must be a finite number ≥ 0.", { details: `λ = ${lambda}` });
  }
}

/** Σ_k A_k, Σ_k B_k and Σ_k n_k over providers, in the clear (the reference the encrypted path matches). */
export function pooledStatistics(stats: readonly ProviderStatistics[], shape: TrainingShape): ProviderStatistics {
  if (stats.length === 0) throw new InvalidInputError("Pooling needs at least one provider's statistics.");
  stats.forEach((s) => assertStatistics(s, shape));
  const a = new Float64Array(shape.features * shape.features);
  const b = new Float64Array(shape.features * shape.outputs);
  let rows = 0;
  for (const s of stats) {
    for (let i = 0; i < a.length; i++) a[i] += s.a.data[i];
    for (let i = 0; i < b.length; i++) b[i] += s.b.data[i];
    rows += s.rows;
  }
  return {
    a: { rows: shape.features, cols: shape.features, data: a },
    b: { rows: shape.features, cols: shape.outputs, data: b },
    rows,
  };
}

/** A + λ·n·I: the regularised Gram matrix of `n` rows. */
export function regularized(a: Matrix, lambda: number, rows: number): Matrix {
  assertLambda(lambda);
  const data = Float64Array.from(a.data);
  for (let i = 0; i < a.rows; i++) data[i * a.cols + i] += lambda * rows;
  return { rows: a.rows, cols: a.cols, data };
}

/** The ridge model W = (A + λnI)⁻¹B (d×c) of one provider's or the pooled statistics. */
export function ridgeFromStatistics(stats: ProviderStatistics, lambda: number): Matrix {
  return solveLinearSystem(regularized(stats.a, lambda, stats.rows), stats.b);
}

/** Fraction of rows whose arg-max score x·W is the arg-max of their target row (one-hot or ±1 labels). */
export function classificationAccuracy(x: Matrix, y: Matrix, w: Matrix): number {
  if (x.cols !== w.rows || y.cols !== w.cols || x.rows !== y.rows) {
    throw new InvalidInputError("Accuracy needs X (n×d), Y (n×c) and W (d×c).", {
      details: `X ${x.rows}×${x.cols}, Y ${y.rows}×${y.cols}, W ${w.rows}×${w.cols}`,
    });
  }
  let correct = 0;
  const scores = new Float64Array(w.cols);
  for (let r = 0; r < x.rows; r++) {
    scores.fill(0);
    for (let j = 0; j < x.cols; j++) {
      const v = x.data[r * x.cols + j];
      if (v === 0) continue;
      for (let k = 0; k < w.cols; k++) scores[k] += v * w.data[j * w.cols + k];
    }
    if (argMax(scores) === argMax(y.data.subarray(r * y.cols, (r + 1) * y.cols))) correct++;
  }
  return correct / x.rows;
}

function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** max |a − b| / max |b|: the relative error of a matrix against a reference. */
export function maxRelativeError(actual: Matrix, reference: Matrix): number {
  if (actual.rows !== reference.rows || actual.cols !== reference.cols) {
    throw new InvalidInputError("Compared matrices must have the same shape.", {
      details: `${actual.rows}×${actual.cols} vs ${reference.rows}×${reference.cols}`,
    });
  }
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.data.length; i++) {
    diff = Math.max(diff, Math.abs(actual.data[i] - reference.data[i]));
    scale = Math.max(scale, Math.abs(reference.data[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
