// A linear model (the demo's and the round's model type) and its byte form, "CSM1".
import { InvalidInputError } from "../errors";

/**
 * A linear classifier's weights: `dimension × classes`, row-major (row j = feature j, the last row the
 * bias). Scores of an example are `xᵀ·W`. This is what a contributor encrypts and submits.
 */
export interface LinearModel {
  readonly weights: Float64Array;
  readonly dimension: number;
  readonly classes: number;
}

export function zeroModel(dimension: number, classes: number): LinearModel {
  assertShape(dimension, classes);
  return { weights: new Float64Array(dimension * classes), dimension, classes };
}

export function cloneModel(model: LinearModel): LinearModel {
  return { weights: Float64Array.from(model.weights), dimension: model.dimension, classes: model.classes };
}

export function assertModel(model: LinearModel, dimension: number, classes: number, what = "model"): void {
  if (model.dimension !== dimension || model.classes !== classes || model.weights.length !== dimension * classes) {
    throw new InvalidInputError(`The ${what} does not fit the data.`, {
      details: `${what} ${model.dimension}×${model.classes} (${model.weights.length} weights), data ${dimension}×${classes}`,
    });
  }
  for (let i = 0; i < model.weights.length; i++) {
    if (!Number.isFinite(model.weights[i])) {
      throw new InvalidInputError(`The ${what} has a non-finite weight.`, {
        details: `weight ${i}: ${model.weights[i]}`,
      });
    }
  }
}

function assertShape(dimension: number, classes: number): void {
  if (!Number.isInteger(dimension) || dimension < 1 || !Number.isInteger(classes) || classes < 2) {
    throw new InvalidInputError("A model needs a positive dimension and at least two classes.", {
      details: `dimension ${dimension}, classes ${classes}`,
    });
  }
}

const MODEL_MAGIC = "CSM1";
const MODEL_HEADER_BYTES = 12;

/**
 * Bytes of a model for a blob store or a hash: "CSM1", dimension and classes (uint32 LE), then the
 * weights as float64 LE, row-major. Identical weights give identical bytes on every platform.
 */
export function encodeModel(model: LinearModel): Uint8Array {
  assertModel(model, model.dimension, model.classes);
  const bytes = new Uint8Array(MODEL_HEADER_BYTES + model.weights.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MODEL_MAGIC.length; i++) bytes[i] = MODEL_MAGIC.charCodeAt(i);
  view.setUint32(4, model.dimension, true);
  view.setUint32(8, model.classes, true);
  model.weights.forEach((weight, i) => view.setFloat64(MODEL_HEADER_BYTES + i * 8, weight, true));
  return bytes;
}

export function decodeModel(bytes: Uint8Array): LinearModel {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, Math.min(4, bytes.length)));
  if (bytes.length < MODEL_HEADER_BYTES || magic !== MODEL_MAGIC) {
    throw new InvalidInputError("These bytes are not an encoded model.", {
      details: `${bytes.length} bytes, starting ${JSON.stringify(magic)}`,
    });
  }
  const dimension = view.getUint32(4, true);
  const classes = view.getUint32(8, true);
  const expected = MODEL_HEADER_BYTES + dimension * classes * 8;
  if (bytes.length !== expected) {
    throw new InvalidInputError("An encoded model has the wrong length.", {
      details: `${dimension}×${classes} needs ${expected} bytes, got ${bytes.length}`,
    });
  }
  const weights = new Float64Array(dimension * classes);
  for (let i = 0; i < weights.length; i++) weights[i] = view.getFloat64(MODEL_HEADER_BYTES + i * 8, true);
  const model = { weights, dimension, classes };
  assertModel(model, dimension, classes);
  return model;
}
