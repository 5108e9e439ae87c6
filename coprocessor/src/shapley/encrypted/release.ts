import { randomBytes } from "node:crypto";
import type { CkksContext } from "../../ckks/context";
import type { Decryptor } from "../../ckks/seal";
import { combineBatches, type CoefficientMap, type ShapleyEstimate } from "../coefficients";
import { readBatches } from "./layout";

/**
 * The custodian's step, kept minimal here until the shared custodian policy lands: decrypt the one
 * score ciphertext, read the batch estimates from their slots, flood them with Gaussian noise and release
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

/** Decrypts the score ciphertext into its batch estimates (custodian-internal, before flooding). */
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

export function releaseScores(
  ctx: CkksContext,
  decryptor: Decryptor,
  scores: Uint8Array,
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
