import { InvalidInputError } from "@ciphershare/protocol/errors";
import { rowPackedLayout, type RowPackedLayout } from "@ciphershare/protocol/training/layout";
import { matvecPlan, requiredGaloisSteps } from "../shapley/encrypted/layout";
import { leftProductSteps, rightProductSteps } from "./products";
import { residualGaloisSteps } from "./residual";
import type { TrainingShape } from "@ciphershare/protocol/training/statistics";

/**
 * The largest d a program may declare: measured at d = 196 (7 ciphertexts per provider, masked product 167 s on a
 * loaded 2-core machine, docs/training.md); d = 256 (16 ciphertexts) takes about 2.5 times the diagonal encodings. Beyond, the
 * left product's cost grows as (ciphertexts)² and wants another layout.
 */
export const MAX_TRAINING_FEATURES = 256;
/** One-vs-all over at most this many classes (S is c×c, the right product's span grows with c). */
export const MAX_TRAINING_OUTPUTS = 64;

/** Programs this core supports: 1 ≤ d ≤ MAX_TRAINING_FEATURES, 1 ≤ c ≤ MAX_TRAINING_OUTPUTS. */
export function assertTrainingShape(shape: TrainingShape, slotCount: number): void {
  const { features, outputs } = shape;
  if (!Number.isSafeInteger(features) || !Number.isSafeInteger(outputs) || features < 1 || outputs < 1) {
    throw new InvalidInputError("A training program needs d ≥ 1 features and c ≥ 1 outputs.", {
      details: `d = ${features}, c = ${outputs}`,
    });
  }
  if (features > MAX_TRAINING_FEATURES || outputs > MAX_TRAINING_OUTPUTS) {
    throw new InvalidInputError("The program is larger than encrypted training supports.", {
      details: `d = ${features} (at most ${MAX_TRAINING_FEATURES}), c = ${outputs} (at most ${MAX_TRAINING_OUTPUTS})`,
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

/**
 * Galois steps the program key needs: M·[A+λnI | B] and then ·blockdiag(N, S); and, when a d × c model fits one
 * ciphertext (d·c ≤ slots), the valuation's projection of each local model by the validation set's triangular factor
 * R (d×d) and its slot sums (`valuationGaloisSteps`), and the residual check's slot sums and expansion
 * (`residual.ts#residualGaloisSteps`).
 */
export function programGaloisSteps(shape: TrainingShape, slotCount: number): number[] {
  const layout = systemLayout(shape, slotCount);
  return unique([
    ...leftProductSteps(layout, shape.features),
    ...rightProductSteps(layout.cols, layout.cols),
    ...(valuationFits(shape, slotCount)
      ? [...valuationGaloisSteps(shape, slotCount), ...residualGaloisSteps(shape, layout.width, slotCount)]
      : []),
  ]);
}

/** Whether a program can value its providers: each local model W_k (d×c) fits one ciphertext. */
export function valuationFits(shape: TrainingShape, slotCount: number): boolean {
  return shape.features * shape.outputs <= slotCount;
}

/**
 * The encrypted Shapley valuation's steps for any validation set of d features: those of a dense upper-triangular R
 * (a real R's plan uses a subset of its diagonals, hence of these steps).
 */
export function valuationGaloisSteps(shape: TrainingShape, slotCount: number): number[] {
  const d = shape.features;
  const dense = { rows: d, cols: d, data: new Float64Array(d * d).fill(1) };
  return requiredGaloisSteps(matvecPlan(dense, shape.outputs, slotCount));
}

/** Galois steps the buyer's key needs: N·U and then ·Sᵀ. */
export function buyerGaloisSteps(shape: TrainingShape, slotCount: number): number[] {
  const layout = modelLayout(shape, slotCount);
  return unique([...leftProductSteps(layout, shape.features), ...rightProductSteps(shape.outputs, shape.outputs)]);
}

function unique(steps: number[]): number[] {
  return [...new Set(steps)].sort((a, b) => a - b);
}
