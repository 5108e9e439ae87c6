import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { SeededRandom } from "../random/seeded-random";
import { MNIST_CLASSES, loadMnist } from "./mnist";

const SIDE = 28;

/** Rows of average-pooled MNIST (side × side features, no bias) with one-hot labels. */
export interface PooledRows {
  readonly x: Matrix;
  readonly y: Matrix;
  readonly labels: Uint8Array;
}

/**
 * MNIST digits average-pooled to side × side: the centred (side·k)² crop with k = ⌊28 / side⌋, in k×k blocks
 * (side 8: the central 24×24 in 3×3 blocks, d = 64; side 14: 2×2 blocks, d = 196). `rows` are indices into the
 * 10 000 digits of the `mnist` package.
 */
export function pooledMnist(side: number, rows: readonly number[]): PooledRows {
  if (!Number.isInteger(side) || side < 1 || side > SIDE) {
    throw new InvalidInputError("The pooled side must be an integer in [1, 28].", { details: `side ${side}` });
  }
  const data = loadMnist();
  const k = Math.floor(SIDE / side);
  const offset = Math.floor((SIDE - side * k) / 2);
  const d = side * side;
  const x = new Float64Array(rows.length * d);
  const y = new Float64Array(rows.length * MNIST_CLASSES);
  const labels = new Uint8Array(rows.length);
  rows.forEach((row, r) => {
    if (!Number.isInteger(row) || row < 0 || row >= data.size) {
      throw new InvalidInputError("An MNIST row index is out of range.", { details: `${row} of ${data.size}` });
    }
    const source = row * data.dimension;
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        let sum = 0;
        for (let a = 0; a < k; a++) {
          for (let b = 0; b < k; b++) sum += data.features[source + (offset + i * k + a) * SIDE + offset + j * k + b];
        }
        x[r * d + i * side + j] = sum / (k * k);
      }
    }
    labels[r] = data.labels[row];
    y[r * MNIST_CLASSES + data.labels[row]] = 1;
  });
  return { x: { rows: rows.length, cols: d, data: x }, y: { rows: rows.length, cols: MNIST_CLASSES, data: y }, labels };
}

/** A seeded shuffle of the 10 000 digit indices cut into a test set and `providers` equal training shares. */
export function pooledSplit(
  providers: number,
  rowsPerProvider: number,
  testRows: number,
  seed: number,
): { providers: number[][]; test: number[] } {
  const total = providers * rowsPerProvider + testRows;
  const all = Array.from({ length: loadMnist().size }, (_, i) => i);
  if (total > all.length) {
    throw new InvalidInputError("Not enough MNIST digits for this split.", { details: `${total} > ${all.length}` });
  }
  new SeededRandom(seed).shuffle(all);
  return {
    test: all.slice(0, testRows),
    providers: Array.from({ length: providers }, (_, p) =>
      all.slice(testRows + p * rowsPerProvider, testRows + (p + 1) * rowsPerProvider),
    ),
  };
}
