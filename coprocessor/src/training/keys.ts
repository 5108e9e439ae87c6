import { InvalidInputError } from "@ciphershare/protocol/errors";
import { rowPackedLayout, type RowPackedLayout } from "./layout";
import { leftProductSteps, rightProductSteps } from "./products";
import type { TrainingShape } from "./statistics";

/** Programs this core supports: the masked system [A+λnI | B] must leave a row's block inside one ciphertext. */
export function assertTrainingShape(shape: TrainingShape, slotCount: number): void {
  const { features, outputs } = shape;
  if (!Number.isSafeInteger(features) || !Number.isSafeInteger(outputs) || features < 1 || outputs < 1) {
    throw new InvalidInputError("A training program needs d ≥ 1 features and c ≥ 1 outputs.", {
      details: `d = ${features}, c = ${outputs}`,
    });
  }
  if (features + outputs > slotCount) {
    throw new InvalidInputError("d + c must fit one ciphertext row block.", {
      details: `d + c = ${features + outputs} > ${slotCount} slots`,
    });
  }
}

/** Where the providers' [A_k | B_k] (d × (d+c)) and the masked system live. */
export function systemLayout(shape: TrainingShape, slotCount: number): RowPackedLayout {
  assertTrainingShape(shape, slotCount);
  return rowPackedLayout(shape.features, shape.features + shape.outputs, slotCount);
}

/** Where U (d×c) and the buyer's W live. */
export function modelLayout(shape: TrainingShape, slotCount: number): RowPackedLayout {
  assertTrainingShape(shape, slotCount);
  return rowPackedLayout(shape.features, shape.outputs, slotCount);
}

/** Galois steps the program key needs: M·[A+λnI | B] and then ·blockdiag(N, S). */
export function programGaloisSteps(shape: TrainingShape, slotCount: number): number[] {
  const layout = systemLayout(shape, slotCount);
  return unique([...leftProductSteps(layout, shape.features), ...rightProductSteps(layout.cols, layout.cols)]);
}

/** Galois steps the buyer's key needs: N·U and then ·Sᵀ. */
export function buyerGaloisSteps(shape: TrainingShape, slotCount: number): number[] {
  const layout = modelLayout(shape, slotCount);
  return unique([...leftProductSteps(layout, shape.features), ...rightProductSteps(shape.outputs, shape.outputs)]);
}

function unique(steps: number[]): number[] {
  return [...new Set(steps)].sort((a, b) => a - b);
}
