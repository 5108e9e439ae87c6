// One round's configuration, read from the manifest whose hash the chain pins (and the program's valuation method)
// and validated once: the CKKS parameter set, the model's tensor layout, the valuation, the score release policy.
// Every role works from this, so none of them can quietly assume another parameter set or layout.
import { ValuationMethod } from "../chain/constants";
import { getParameterSet, type CkksParameterSet } from "../ckks/params";
import { InvalidInputError } from "../errors";
import { describeTensors, sameTensorLayout, type ModelUpdate, type TensorSpec } from "../formats/model-update";
import type { Hex } from "../hex";
import { scoreReleaseOf, type RoundManifest, type ScoreRelease } from "../records/round-manifest";

/**
 * The set new rounds use: deep-v2 holds a 785×10 model in one ciphertext, takes Shapley's depth 3, and releases
 * both outputs at scale 2^100 on two primes, the headroom flooding by the book needs (docs/ckks.md).
 */
export const ROUND_PARAMETER_SET_ID = "deep-v2";

/**
 * C: every contributed model is assumed to satisfy ‖w‖_F ≤ C, as FL norm clipping ensures. The custodian sizes its
 * flooding for the worst case under this bound and refuses to release values it rules out (docs/ckks.md). One round
 * of MNIST training from zero gives ‖w‖_F ≈ 0.4; nothing checks the bound on ciphertexts (that needs proofs of
 * well-formed encryption).
 */
export const ROUND_MODEL_NORM_BOUND = 16;

/** The name of a round's one model tensor in every envelope: `weights`, d×c, bias row last. */
export const ROUND_MODEL_TENSOR = "weights";

/** Rescales the encrypted Shapley evaluation takes (docs/shapley.md). */
const SHAPLEY_DEPTH = 3;

/** A round's manifest (or program) asks for something CipherShare does not run. */
export class RoundConfigError extends InvalidInputError {
  override name = "RoundConfigError";
}

export interface RoundConfig {
  readonly parameterSet: CkksParameterSet;
  readonly dimension: number;
  readonly classes: number;
  /** The tensor manifest every contribution must carry. */
  readonly tensors: readonly TensorSpec[];
  readonly valuationMethod: number;
  readonly scoreRelease: ScoreRelease;
  /** Blob hashes of the base model and of the validation set. */
  readonly baseModel: Hex;
  readonly validation: Hex;
  /** Blob hash of the validation factor R (`records/projection-factor.ts`), when the round published it. */
  readonly projectionFactor?: Hex;
}

/** The tensor manifest of a d×c model: one `weights` tensor. */
export function modelTensors(dimension: number, classes: number): TensorSpec[] {
  return [{ name: ROUND_MODEL_TENSOR, shape: [dimension, classes] }];
}

/**
 * Validates a round: a parameter set CipherShare knows with the depth of the valuation, a d×c model that fits one
 * ciphertext (the Shapley path reads vec(w) from chunk 0), exact Shapley as the program's valuation method.
 */
export function roundConfig(manifest: RoundManifest, valuationMethod: number): RoundConfig {
  let parameterSet: CkksParameterSet;
  try {
    parameterSet = getParameterSet(manifest.parameterSet);
  } catch (error) {
    throw new RoundConfigError("The round manifest names an unknown CKKS parameter set.", {
      details: String(manifest.parameterSet),
      cause: error,
    });
  }
  if (parameterSet.multiplicativeDepth < SHAPLEY_DEPTH) {
    throw new RoundConfigError("The round's parameter set is too shallow for encrypted Shapley.", {
      details: `${parameterSet.id} takes ${parameterSet.multiplicativeDepth} rescales, Shapley needs ${SHAPLEY_DEPTH}`,
    });
  }
  const { dimension, classes } = manifest;
  if (!Number.isSafeInteger(dimension) || dimension < 1 || !Number.isSafeInteger(classes) || classes < 2) {
    throw new RoundConfigError("The round's model shape is not a positive dimension × at least two classes.", {
      details: `${dimension}×${classes}`,
    });
  }
  if (dimension * classes > parameterSet.slotCount) {
    throw new RoundConfigError("The round's model does not fit one ciphertext of its parameter set.", {
      details: `${dimension}×${classes} = ${dimension * classes} values > ${parameterSet.slotCount} slots of ${parameterSet.id}`,
    });
  }
  if (valuationMethod !== ValuationMethod.ExactShapley) {
    throw new RoundConfigError("The program's valuation method is not one the coprocessor runs.", {
      details: `method ${valuationMethod}; supported: ${ValuationMethod.ExactShapley} (exact Shapley)`,
    });
  }
  return {
    parameterSet,
    dimension,
    classes,
    tensors: modelTensors(dimension, classes),
    valuationMethod,
    scoreRelease: scoreReleaseOf(manifest),
    baseModel: manifest.baseModel,
    validation: manifest.validation,
    ...(manifest.projectionFactor === undefined ? {} : { projectionFactor: manifest.projectionFactor }),
  };
}

/**
 * The update in the round's layout: as it is when its tensors are the round's; as the round's one `weights` tensor
 * when it holds a single tensor shaped d×c or flat d·c (C order, e.g. a `.npy` whatever it named its array).
 * Anything else is refused here, naming both layouts, rather than excluded by the coprocessor later.
 */
export function toRoundLayout(
  update: ModelUpdate,
  config: Pick<RoundConfig, "tensors" | "dimension" | "classes">,
): ModelUpdate {
  if (sameTensorLayout(update.tensors, config.tensors)) return update;
  const [only, ...rest] = update.tensors;
  const size = config.dimension * config.classes;
  const fits =
    only !== undefined &&
    rest.length === 0 &&
    ((only.shape.length === 2 && only.shape[0] === config.dimension && only.shape[1] === config.classes) ||
      (only.shape.length === 1 && only.shape[0] === size));
  if (!fits || update.values.length !== size) {
    throw new InvalidInputError("The model update does not have the round's model shape.", {
      details: `${describeTensors(update.tensors)} (${update.values.length} values), the round's model is ${describeTensors(config.tensors)}`,
    });
  }
  return { tensors: config.tensors, values: update.values };
}
