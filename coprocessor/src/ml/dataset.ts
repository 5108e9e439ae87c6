import { InvalidInputError } from "../errors/base";
import type { SeededRandom } from "../random/seeded-random";

/**
 * Labelled examples as one row-major feature matrix. Features already include the bias column (the
 * last one, always 1), so a model is a plain `dimension × classes` matrix and scores are `X · W`.
 */
export interface Dataset {
  /** `size × dimension`, row-major. */
  readonly features: Float64Array;
  /** Class of each row, in [0, classes). */
  readonly labels: Uint8Array;
  readonly size: number;
  readonly dimension: number;
  readonly classes: number;
}

export function assertDataset(dataset: Dataset): void {
  const { features, labels, size, dimension, classes } = dataset;
  if (features.length !== size * dimension || labels.length !== size) {
    throw new InvalidInputError("Dataset arrays do not match its size and dimension.", {
      details: `size ${size}, dimension ${dimension}, features ${features.length}, labels ${labels.length}`,
    });
  }
  for (let i = 0; i < size; i++) {
    if (labels[i] >= classes) {
      throw new InvalidInputError("A label is outside the dataset's classes.", {
        details: `row ${i}: label ${labels[i]}, classes ${classes}`,
      });
    }
  }
}

/** The rows at `indices`, in that order (copies). */
export function selectRows(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const { dimension } = dataset;
  const features = new Float64Array(indices.length * dimension);
  const labels = new Uint8Array(indices.length);
  for (let row = 0; row < indices.length; row++) {
    const source = indices[row];
    if (!Number.isInteger(source) || source < 0 || source >= dataset.size) {
      throw new InvalidInputError("A row index is outside the dataset.", {
        details: `index ${source}, size ${dataset.size}`,
      });
    }
    features.set(dataset.features.subarray(source * dimension, (source + 1) * dimension), row * dimension);
    labels[row] = dataset.labels[source];
  }
  return { features, labels, size: indices.length, dimension, classes: dataset.classes };
}

/** The same rows with other labels (e.g. a poisoned client's flipped ones); features are shared. */
export function withLabels(dataset: Dataset, labels: Uint8Array): Dataset {
  const relabelled = { ...dataset, labels };
  assertDataset(relabelled);
  return relabelled;
}

/** A seeded random split into `train` and `test` rows (`testSize` rows go to test). */
export function splitDataset(
  dataset: Dataset,
  testSize: number,
  random: SeededRandom,
): { train: Dataset; test: Dataset } {
  if (!Number.isInteger(testSize) || testSize <= 0 || testSize >= dataset.size) {
    throw new InvalidInputError("The test split must leave rows on both sides.", {
      details: `testSize ${testSize}, dataset size ${dataset.size}`,
    });
  }
  const order = random.shuffle(Array.from({ length: dataset.size }, (_, i) => i));
  return { test: selectRows(dataset, order.slice(0, testSize)), train: selectRows(dataset, order.slice(testSize)) };
}

/** Row `i` of the one-hot label matrix Y (`size × classes`), built whole. */
export function oneHotLabels(dataset: Dataset): Float64Array {
  const y = new Float64Array(dataset.size * dataset.classes);
  for (let i = 0; i < dataset.size; i++) y[i * dataset.classes + dataset.labels[i]] = 1;
  return y;
}

/** How many rows of each class. */
export function labelCounts(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]] += 1;
  return counts;
}
