import { InvalidInputError } from "@ciphershare/protocol/errors";
import { assertDataset, type Dataset } from "@ciphershare/protocol/records/dataset";
import type { SeededRandom } from "../random/seeded-random";

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
