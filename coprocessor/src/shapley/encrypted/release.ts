import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { buildEnvelope, EnvelopeKind } from "@ciphershare/protocol/ckks/envelope";
import type { Decryptor } from "@ciphershare/protocol/ckks/seal";
import type { Hex } from "@ciphershare/protocol/hex";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import type { CoefficientMap } from "../coefficients";
import { readScores } from "./layout";

/** Name of the one tensor of a Shapley score envelope: shape [1, n] (φ in slots 0…n−1) for every method. */
export const SHAPLEY_SCORES_TENSOR = "shapley-phi";

/** Shape of the released tensor: one row of n scores, whether the map is exact or sampled. */
export function scoreShape(map: Pick<CoefficientMap, "n">): [number, number] {
  return [1, map.n];
}

/**
 * Coprocessor: wraps the score ciphertext as an Aggregate envelope, the only kind the key custodian
 * (`KeyCustodian.decryptOutput`) agrees to decrypt once its keccak256 is published as a round output.
 * Its manifest covers exactly the n output slots (φ, shape [1, n]), so the custodian decrypts and releases those n
 * values (noise-flooded) and nothing else — for a sampled map too, whose batch maps stay plaintext. The header's
 * value exponent carries the output scale (φ = slot × 2^exponent), so reading φ needs nothing but the envelope.
 */
export async function scoreEnvelope(
  ctx: CkksContext,
  publicBundleHash: Hex,
  scores: Uint8Array,
  map: CoefficientMap,
): Promise<Uint8Array> {
  const valueExponent = Math.log2(map.outputScale);
  if (!Number.isInteger(valueExponent)) {
    throw new InvalidInputError("The output scale of a score envelope must be a power of two.", {
      details: `${map.outputScale}`,
    });
  }
  return singleCiphertextEnvelope(ctx, publicBundleHash, scores, SHAPLEY_SCORES_TENSOR, scoreShape(map), valueExponent);
}

/** The scores the custodian released: φ, n numbers, and nothing else. */
export interface ReleasedScores {
  readonly phi: number[];
}

/**
 * φ from the custodian's release of a score envelope (its flooded values and the envelope's value scale): exactly
 * the n values of the one `shapley-phi` [1, n] tensor, n being the number of included contributors.
 */
export function scoresFromRelease(
  output: { readonly tensors: readonly TensorSpec[]; readonly values: ArrayLike<number>; readonly valueScale: number },
  contributors: number,
): ReleasedScores {
  const [tensor, ...rest] = output.tensors;
  if (tensor?.name !== SHAPLEY_SCORES_TENSOR || rest.length > 0) {
    throw new InvalidInputError("The release is not a score envelope.", {
      details: output.tensors.map((t) => t.name).join(", "),
    });
  }
  if (tensor.shape[1] !== contributors || output.values.length !== contributors) {
    throw new InvalidInputError("The release does not hold one score per client.", {
      details: `${output.values.length} released values (shape [${tensor.shape.join(", ")}]), ${contributors} clients`,
    });
  }
  return { phi: Array.from(readScores(output.values, { n: contributors, outputScale: output.valueScale })) };
}

/** Decrypts the score ciphertext without flooding: precision checks only, never a release. */
export function decryptScores(
  ctx: CkksContext,
  decryptor: Decryptor,
  scores: Uint8Array,
  map: CoefficientMap,
): Float64Array {
  const ciphertext = ctx.loadCiphertext(scores);
  try {
    return readScores(ctx.decrypt(ciphertext, decryptor), map);
  } finally {
    ciphertext.delete();
  }
}

/** Name of the one tensor of a consistency-residual envelope: shape [1, 1] (slot 0 of a slot-summed ciphertext). */
export const PROJECTION_RESIDUAL_TENSOR = "projection-residual";

/**
 * Coprocessor: wraps a consistency residual (`EncryptedShapleyEvaluator.consistencyResidual`) as an Aggregate envelope
 * of one value, so the custodian's policy releases that one number (flooded) once its hash is a published output.
 */
export async function residualEnvelope(
  ctx: CkksContext,
  publicBundleHash: Hex,
  residual: Uint8Array,
): Promise<Uint8Array> {
  return singleCiphertextEnvelope(ctx, publicBundleHash, residual, PROJECTION_RESIDUAL_TENSOR, [1, 1]);
}

/** An Aggregate envelope of one output ciphertext whose manifest names one tensor: what the custodian may release. */
async function singleCiphertextEnvelope(
  ctx: CkksContext,
  publicBundleHash: Hex,
  bytes: Uint8Array,
  tensor: string,
  shape: number[],
  valueExponent?: number,
): Promise<Uint8Array> {
  const ciphertext = ctx.loadCiphertext(bytes);
  try {
    return await buildEnvelope(
      {
        kind: EnvelopeKind.Aggregate,
        parameterSet: ctx.parameterSet,
        publicBundleHash,
        scale: ciphertext.scale(),
        coeffModulusSize: ciphertext.coeffModulusSize(),
        ciphertextSize: ciphertext.size(),
        ...(valueExponent === undefined ? {} : { valueExponent }),
        tensors: [{ name: tensor, shape }],
      },
      [bytes],
    );
  } finally {
    ciphertext.delete();
  }
}
