import type { Dataset } from "@ciphershare/protocol/records/dataset";
import { assertModel, type LinearModel } from "@ciphershare/protocol/records/model";

/** Scores `X · W` (`size × classes`, row-major). */
export function scores(model: LinearModel, data: Dataset): Float64Array {
  assertModel(model, data.dimension, data.classes);
  const { dimension, classes } = data;
  const out = new Float64Array(data.size * classes);
  for (let row = 0; row < data.size; row++) {
    const x = row * dimension;
    const s = row * classes;
    for (let j = 0; j < dimension; j++) {
      const value = data.features[x + j];
      if (value === 0) continue; // MNIST pixels are mostly 0
      const w = j * classes;
      for (let k = 0; k < classes; k++) out[s + k] += value * model.weights[w + k];
    }
  }
  return out;
}

/** Share of rows whose highest score is their label (ties go to the lowest class). */
export function accuracy(model: LinearModel, data: Dataset): number {
  const s = scores(model, data);
  let correct = 0;
  for (let row = 0; row < data.size; row++) {
    let best = 0;
    for (let k = 1; k < data.classes; k++) if (s[row * data.classes + k] > s[row * data.classes + best]) best = k;
    if (best === data.labels[row]) correct += 1;
  }
  return correct / data.size;
}

/**
 * The valuation utility: `−(1/(n·c))·‖X·W − Y‖²` with Y the one-hot labels. A polynomial (quadratic) in
 * the weights, so it can be evaluated under CKKS on an encrypted model; higher is better, 0 is perfect,
 * and the zero model scores −1/c.
 */
export function squaredErrorUtility(model: LinearModel, data: Dataset): number {
  const s = scores(model, data);
  let total = 0;
  for (let row = 0; row < data.size; row++) {
    for (let k = 0; k < data.classes; k++) {
      const residual = s[row * data.classes + k] - (data.labels[row] === k ? 1 : 0);
      total += residual * residual;
    }
  }
  return -total / (data.size * data.classes);
}
