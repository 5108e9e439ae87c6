import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { buildEnvelope, EnvelopeKind } from "@ciphershare/protocol/ckks/envelope";
import type { Decryptor } from "@ciphershare/protocol/ckks/seal";
import type { Hex } from "@ciphershare/protocol/hex";
import { InvalidInputError } from "@ciphershare/protocol/errors";
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
 * Its manifest covers exactly the n output slots (φ), so the custodian decrypts and releases those n
 * values (noise-flooded) and nothing else — for a sampled map too, whose batch maps stay plaintext.
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
        tensors: [{ name: SHAPLEY_SCORES_TENSOR, shape: scoreShape(map) }],
      },
      [scores],
    );
  } finally {
    ciphertext.delete();
  }
}

/** The scores the custodian released: φ, n numbers, and nothing else. */
export interface ReleasedScores {
  readonly phi: number[];
}

/** φ from the custodian's released (flooded) values of a score envelope: exactly n values. */
export function scoresFromRelease(values: ArrayLike<number>, map: CoefficientMap): ReleasedScores {
  if (values.length !== map.n) {
    throw new InvalidInputError("The release does not hold one score per client.", {
      details: `${values.length} released values, ${map.n} clients`,
    });
  }
  return { phi: Array.from(readScores(values, map)) };
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
