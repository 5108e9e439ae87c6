import type { CkksContext } from "../../ckks/context";
import { buildEnvelope, EnvelopeKind } from "../../ckks/envelope";
import type { Decryptor } from "../../ckks/seal";
import type { Hex } from "../../hash/keccak";
import { combineBatches, type CoefficientMap, type ShapleyEstimate } from "../coefficients";
import { readBatches } from "./layout";

/** Name of the one tensor of a Shapley score envelope: shape [batches, n], batch-major like the slots. */
export const SHAPLEY_SCORES_TENSOR = "shapley-phi";

/**
 * Coprocessor: wraps the score ciphertext as an Aggregate envelope, the only kind the key custodian
 * (`KeyCustodian.decryptOutput`) agrees to decrypt once its keccak256 is published as a round output.
 * Its manifest covers exactly the B·n output slots, so the custodian decrypts and releases those values
 * (noise-flooded) and nothing else.
 */
export async function scoreEnvelope(
  ctx: CkksContext,
  publicBundleHash: Hex,
  scores: Uint8Array,
  map: CoefficientMap,
): Promise<Uint8Array> {
  const ciphertext = ctx.loadCiphertext(scores);
  try {
    return await buildEnvelope(
      {
        kind: EnvelopeKind.Aggregate,
        parameterSet: ctx.parameterSet,
        publicBundleHash,
        scale: ciphertext.scale(),
        coeffModulusSize: ciphertext.coeffModulusSize(),
        ciphertextSize: ciphertext.size(),
        tensors: [{ name: SHAPLEY_SCORES_TENSOR, shape: [map.batches, map.n] }],
      },
      [scores],
    );
  } finally {
    ciphertext.delete();
  }
}

/** φ and its standard error from the custodian's released (flooded) values of a score envelope. */
export function scoresFromRelease(values: ArrayLike<number>, map: CoefficientMap): ShapleyEstimate {
  return combineBatches(readBatches(values, map));
}

/** Decrypts the score ciphertext without flooding: precision checks only, never a release. */
export function decryptScoreBatches(
  ctx: CkksContext,
  decryptor: Decryptor,
  scores: Uint8Array,
  map: CoefficientMap,
): Float64Array[] {
  const ciphertext = ctx.loadCiphertext(scores);
  try {
    return readBatches(ctx.decrypt(ciphertext, decryptor), map);
  } finally {
    ciphertext.delete();
  }
}
