// The labelled data a round values contributions on (its validation set) and its byte form, "CSD1".
import { InvalidInputError } from "../errors";

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

/** The one-hot label matrix Y (`size × classes`, row-major). */
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

const DATASET_MAGIC = "CSD1";

/** "CSD1", size, dimension, classes (uint32 LE), features (float64 LE, row-major), labels (uint8). */
export function encodeDataset(data: Dataset): Uint8Array {
  const header = 16;
  const bytes = new Uint8Array(header + data.features.length * 8 + data.labels.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = DATASET_MAGIC.charCodeAt(i);
  view.setUint32(4, data.size, true);
  view.setUint32(8, data.dimension, true);
  view.setUint32(12, data.classes, true);
  data.features.forEach((value, i) => view.setFloat64(header + i * 8, value, true));
  bytes.set(data.labels, header + data.features.length * 8);
  return bytes;
}

export function decodeDataset(bytes: Uint8Array): Dataset {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < 16 || magic !== DATASET_MAGIC) {
    throw new InvalidInputError("These bytes are not an encoded dataset.", {
      details: `starts ${JSON.stringify(magic)}`,
    });
  }
  const size = view.getUint32(4, true);
  const dimension = view.getUint32(8, true);
  const classes = view.getUint32(12, true);
  const expected = 16 + size * dimension * 8 + size;
  if (bytes.length !== expected) {
    throw new InvalidInputError("The encoded dataset has the wrong length.", {
      details: `${bytes.length} bytes, expected ${expected}`,
    });
  }
  const features = new Float64Array(size * dimension);
  for (let i = 0; i < features.length; i++) features[i] = view.getFloat64(16 + i * 8, true);
  const labels = bytes.slice(16 + features.length * 8);
  return { features, labels, size, dimension, classes };
}
