import { randomBytes } from "node:crypto";
import type { CkksContext } from "../../ckks/context";
import type { Decryptor } from "../../ckks/seal";
import { combineBatches, type CoefficientMap, type ShapleyEstimate } from "../coefficients";
import { readBatches } from "./layout";
import { InvalidInputError } from "../../errors/base";

/**
 * The custodian's step, kept minimal here until the shared custodian policy lands: decrypt the score
 * ciphertext(s), read the batch estimates from their slots, flood them with Gaussian noise and release
 * only φ (the batch mean) and its standard error.
 *
 * Flooding: SEAL's CKKS is not IND-CPA-D, so exact decryptions can leak the secret key; the released
 * values get independent Gaussian noise with standard deviation `relativeNoise` × max|φ| (default 2^-24,
 * ≈6e-8 relative: far above the ~1e-10 CKKS error, far below what a payout can notice).
 */
export interface ReleaseOptions {
  readonly relativeNoise?: number;
}

export const DEFAULT_RELATIVE_FLOODING = 2 ** -24;

/** Decrypts the score ciphertexts into their batch estimates (custodian-internal, before flooding). */
export function decryptScoreBatches(
  ctx: CkksContext,
  decryptor: Decryptor,
  scores: readonly Uint8Array[],
  map: CoefficientMap,
): Float64Array[] {
  const decrypted = scores.map((bytes) => {
    const ciphertext = ctx.loadCiphertext(bytes);
    try {
      return ctx.decrypt(ciphertext, decryptor);
    } finally {
      ciphertext.delete();
    }
  });
  if (decrypted.length === 1) return readBatches(decrypted[0], map);
  if (decrypted.length !== map.batches * map.n) {
    throw new InvalidInputError("The number of score ciphertexts does not match the coefficient map.", {
      details: `${decrypted.length} ciphertexts for ${map.batches} batches × ${map.n} clients`,
    });
  }
  // Replicated layout: output b·n + k in every slot of its own ciphertext.
  return Array.from({ length: map.batches }, (_, b) =>
    Float64Array.from({ length: map.n }, (_, k) => decrypted[b * map.n + k][0] * map.outputScale),
  );
}

export function releaseScores(
  ctx: CkksContext,
  decryptor: Decryptor,
  scores: readonly Uint8Array[],
  map: CoefficientMap,
  options: ReleaseOptions = {},
): ShapleyEstimate {
  const batches = decryptScoreBatches(ctx, decryptor, scores, map);
  const largest = Math.max(...batches.flatMap((batch) => Array.from(batch, Math.abs)));
  const sigma = (options.relativeNoise ?? DEFAULT_RELATIVE_FLOODING) * largest;
  return combineBatches(batches.map((batch) => batch.map((value) => value + sigma * gaussian())));
}

/** A standard normal sample from the OS's cryptographic randomness (Box–Muller). */
function gaussian(): number {
  const bytes = randomBytes(16);
  const u1 = (Number(bytes.readBigUInt64BE(0) >> 11n) + 1) / 2 ** 53;
  const u2 = Number(bytes.readBigUInt64BE(8) >> 11n) / 2 ** 53;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
