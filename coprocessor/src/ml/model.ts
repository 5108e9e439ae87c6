import { InvalidInputError } from "../errors/base";

/**
 * A linear classifier's weights: `dimension × classes`, row-major (row j = feature j, the last row the
 * bias). Scores of an example are `xᵀ·W`. This is what a contributor encrypts and submits.
 */
export interface LinearModel {
  readonly weights: Float64Array;
  readonly dimension: number;
  readonly classes: number;
}

/** A trained local model and the number of examples behind it: FedAvg's weight. */
export interface ClientUpdate {
  readonly model: LinearModel;
  readonly sampleCount: number;
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
