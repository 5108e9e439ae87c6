import type { CkksContext } from "../ckks/context";
import { describeSealException } from "../ckks/seal";
import { ThresholdError } from "./errors";
import type { KeyShare } from "./key-share";
import { addPointwise, crtLift, mulPointwise } from "./modular";
import type { ModulusLevel } from "./modulus-chain";
import { checkDecryptable } from "./partial-decryption";
import { ciphertextPolynomial, parseCiphertext, serializeCiphertext } from "./seal-format";

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
  return crtLift(nttToCoefficients(ctx, level, message), level.primes, degree);
}

/** ‖a − b‖₂ / √2 for two runs' decryptions (see above). */
export function twoRunErrorL2(a: readonly bigint[], b: readonly bigint[]): number {
  if (a.length !== b.length) throw new ThresholdError("Two runs must decrypt to polynomials of one degree.");
  let squares = 0;
  for (let i = 0; i < a.length; i++) squares += Number(a[i] - b[i]) ** 2;
  return Math.sqrt(squares / 2);
}

/** SEAL's inverse NTT on NTT-form residues at `level` (the constant 1 rides along as the second polynomial). */
function nttToCoefficients(ctx: CkksContext, level: ModulusLevel, residues: BigUint64Array): BigUint64Array {
  const degree = ctx.parameterSet.polyModulusDegree;
  const k = level.primes.length;
  const data = new BigUint64Array(2 * k * degree);
  data.set(residues);
  data.fill(1n, k * degree);
  const ciphertext = new ctx.seal.Ciphertext();
  try {
    ciphertext.loadFromArray(
      ctx.context,
      serializeCiphertext({
        parmsId: level.parmsId,
        isNttForm: true,
        size: 2,
        polyModulusDegree: degree,
        coeffModulusSize: k,
        scale: 1,
        correctionFactor: 1n,
        data,
      }),
    );
    ctx.evaluator.cipherTransformFromNttInplace(ciphertext);
    const saved = new Uint8Array(ciphertext.saveToArray(ctx.seal.ComprModeType.none) as ArrayLike<number>);
    return new BigUint64Array(ciphertextPolynomial(parseCiphertext(saved), 0));
  } catch (error) {
    throw new ThresholdError("SEAL could not move a polynomial out of NTT form.", {
      details: describeSealException(error),
      cause: error,
    });
  } finally {
    ciphertext.delete();
  }
}
