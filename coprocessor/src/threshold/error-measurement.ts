import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { ThresholdError } from "./errors";
import type { KeyShare } from "./key-share";
import { addPointwise, crtLift, mulPointwise } from "./modular";
import { checkDecryptable } from "./partial-decryption";
import { transformWithSeal } from "./ntt";
import { ciphertextPolynomial, parseCiphertext } from "./seal-format";

/**
 * Measuring decryption errors, to check the bounds of noise-bound.ts against honest runs (tests and
 * benchmarks only: it needs the whole secret key).
 *
 * The error of one run cannot be isolated from the message without exact polynomial arithmetic, but two
 * runs of the same computation on the same plaintexts, under independent keys and encryption randomness,
 * decrypt to Δ·m + e_A and Δ·m + e_B with the very same Δ·m (every plaintext encoding is deterministic):
 * ‖e_A − e_B‖₂ / √2 estimates ‖e‖₂.
 */
export function decryptToCoefficients(ctx: CkksContext, ciphertext: Uint8Array, key: KeyShare): bigint[] {
  const raw = parseCiphertext(ciphertext);
  const level = checkDecryptable(ctx, raw);
  const degree = raw.polyModulusDegree;
  const secret = key.key.data.subarray(0, level.primes.length * degree);
  const message = mulPointwise(ciphertextPolynomial(raw, 1), secret, level.primes, degree);
  addPointwise(message, ciphertextPolynomial(raw, 0), level.primes, degree, message);
  return crtLift(transformWithSeal(ctx, level, message, "from-ntt"), level.primes, degree);
}

/** ‖a − b‖₂ / √2 for two runs' decryptions (see above). */
export function twoRunErrorL2(a: readonly bigint[], b: readonly bigint[]): number {
  if (a.length !== b.length) throw new ThresholdError("Two runs must decrypt to polynomials of one degree.");
  let squares = 0;
  for (let i = 0; i < a.length; i++) squares += Number(a[i] - b[i]) ** 2;
  return Math.sqrt(squares / 2);
}
