import { transposeMultiply, type Matrix } from "../linalg/matrix";
import { TrainingInputError } from "./errors";

/** The public shape of a training program: d features, c outputs. */
export interface TrainingShape {
  readonly features: number;
  readonly outputs: number;
}

/**
 * A provider's sufficient statistics for ridge regression: A = XᵀX (d×d), B = XᵀY (d×c) over its `rows` rows.
 * Training needs nothing else of the rows, and Σ A_k, Σ B_k over providers are the pooled statistics.
 */
export interface ProviderStatistics {
  readonly a: Matrix;
  readonly b: Matrix;
  /** The public row count n_k (what λ·n scales with). */
  readonly rows: number;
}

/** Throws a `TrainingInputError` naming the first non-finite entry of `m`. */
export function assertFiniteMatrix(what: string, m: Matrix): void {
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      const row = Math.floor(i / m.cols);
      throw new TrainingInputError("non-finite", `The ${what} contain a non-finite value.`, {
        details: `${what}[${row}][${i - row * m.cols}] = ${m.data[i]}`,
      });
    }
  }
}

/**
 * Checks a provider's rows against the program: X is n×d, Y is n×c, every value finite, and, when the provider
 * declares a row count (the public n_k it commits with), that it is a positive integer equal to n.
 */
export function assertTrainingData(x: Matrix, y: Matrix, shape: TrainingShape, declaredRows?: number): void {
  if (x.cols !== shape.features) {
    throw new TrainingInputError("shape", "The data rows have the wrong number of features.", {
      details: `X is ${x.rows}×${x.cols}, the program has d = ${shape.features}`,
    });
  }
  if (y.cols !== shape.outputs) {
    throw new TrainingInputError("shape", "The labels have the wrong number of outputs.", {
      details: `Y is ${y.rows}×${y.cols}, the program has c = ${shape.outputs}`,
    });
  }
  if (x.rows !== y.rows) {
    throw new TrainingInputError("row-count", "The data and the labels have different row counts.", {
      details: `X has ${x.rows} rows, Y has ${y.rows}`,
    });
  }
  if (declaredRows !== undefined) assertRowCount(declaredRows, x.rows);
  assertFiniteMatrix("data rows", x);
  assertFiniteMatrix("labels", y);
}

/** A declared row count must be a positive safe integer, and equal the actual count when one is known. */
export function assertRowCount(declared: number, actual?: number): void {
  if (!Number.isSafeInteger(declared) || declared <= 0) {
    throw new TrainingInputError("row-count", "The row count must be a positive integer.", {
      details: `declared ${declared}`,
    });
  }
  if (actual !== undefined && declared !== actual) {
    throw new TrainingInputError("row-count", "The declared row count does not match the data.", {
      details: `declared ${declared}, the data has ${actual} rows`,
    });
  }
}

/** A = XᵀX and B = XᵀY from a provider's own rows, after `assertTrainingData`. */
export function providerStatistics(
  x: Matrix,
  y: Matrix,
  shape: TrainingShape,
  declaredRows?: number,
): ProviderStatistics {
  assertTrainingData(x, y, shape, declaredRows);
  return { a: transposeMultiply(x, x), b: transposeMultiply(x, y), rows: x.rows };
}

/**
 * Checks statistics received from elsewhere (decrypted in a test, or computed by DP noise): A is d×d, B is d×c,
 * finite, and the row count a positive integer.
 */
export function assertStatistics(stats: ProviderStatistics, shape: TrainingShape): void {
  const { a, b } = stats;
  if (a.rows !== shape.features || a.cols !== shape.features) {
    throw new TrainingInputError("shape", "The statistic A = XᵀX must be d×d.", {
      details: `A is ${a.rows}×${a.cols}, d = ${shape.features}`,
    });
  }
  if (b.rows !== shape.features || b.cols !== shape.outputs) {
    throw new TrainingInputError("shape", "The statistic B = XᵀY must be d×c.", {
      details: `B is ${b.rows}×${b.cols}, d = ${shape.features}, c = ${shape.outputs}`,
    });
  }
  assertRowCount(stats.rows);
  assertFiniteMatrix("statistic A", a);
  assertFiniteMatrix("statistic B", b);
}

/** [A | B] as one d×(d+c) matrix: the layout providers encrypt. */
export function augmented(a: Matrix, b: Matrix): Matrix {
  if (a.rows !== b.rows) {
    throw new TrainingInputError("shape", "A and B must have the same number of rows.", {
      details: `A is ${a.rows}×${a.cols}, B is ${b.rows}×${b.cols}`,
    });
  }
  const cols = a.cols + b.cols;
  const data = new Float64Array(a.rows * cols);
  for (let r = 0; r < a.rows; r++) {
    data.set(a.data.subarray(r * a.cols, (r + 1) * a.cols), r * cols);
    data.set(b.data.subarray(r * b.cols, (r + 1) * b.cols), r * cols + a.cols);
  }
  return { rows: a.rows, cols, data };
}

/** Splits a d×(d+c) matrix into its first d columns and the rest. */
export function splitAugmented(m: Matrix, features: number): { left: Matrix; right: Matrix } {
  if (m.rows !== features || m.cols <= features) {
    throw new TrainingInputError("shape", "An augmented system must be d×(d+c) with c ≥ 1.", {
      details: `${m.rows}×${m.cols}, d = ${features}`,
    });
  }
  const outputs = m.cols - features;
  const left = new Float64Array(features * features);
  const right = new Float64Array(features * outputs);
  for (let r = 0; r < features; r++) {
    left.set(m.data.subarray(r * m.cols, r * m.cols + features), r * features);
    right.set(m.data.subarray(r * m.cols + features, (r + 1) * m.cols), r * outputs);
  }
  return {
    left: { rows: features, cols: features, data: left },
    right: { rows: features, cols: outputs, data: right },
  };
}
