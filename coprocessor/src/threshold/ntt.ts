import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { describeSealException } from "@ciphershare/protocol/ckks/seal";
import { ThresholdError } from "./errors";
import type { ModulusLevel } from "./modulus-chain";
import { ciphertextPolynomial, parseCiphertext, serializeCiphertext } from "./seal-format";

/**
 * SEAL's own NTT, forward or inverse, on one polynomial's residues at `level`: the polynomial goes in as the
 * first of a 2-polynomial ciphertext, `transformToNtt` / `transformFromNtt` converts it, and it is read back.
 * SEAL refuses to transform a ciphertext whose second polynomial is zero, so that one holds the constant 1
 * (in coefficient form [1, 0, …], in NTT form all ones) and is dropped. Every buffer that held the polynomial
 * — ours and the WASM copy, whose freed memory is reused, not cleared — is zeroed before returning.
 */
export function transformWithSeal(
  ctx: CkksContext,
  level: ModulusLevel,
  residues: BigUint64Array,
  direction: "to-ntt" | "from-ntt",
): BigUint64Array {
  const degree = ctx.parameterSet.polyModulusDegree;
  const k = level.primes.length;
  if (residues.length !== k * degree) {
    throw new ThresholdError("A polynomial at this level has primes × N residues.", {
      details: `${residues.length} ≠ ${k} × ${degree}`,
    });
  }
  const isNttForm = direction === "from-ntt";
  const withOne = (polynomial: BigUint64Array) => {
    const data = new BigUint64Array(2 * k * degree);
    data.set(polynomial);
    if (isNttForm) data.fill(1n, k * degree);
    else for (let j = 0; j < k; j++) data[(k + j) * degree] = 1n;
    return serializeCiphertext({
      parmsId: level.parmsId,
      isNttForm,
      size: 2,
      polyModulusDegree: degree,
      coeffModulusSize: k,
      scale: 1,
      correctionFactor: 1n,
      data,
    });
  };
  const bytes = withOne(residues);
  const ciphertext = new ctx.seal.Ciphertext();
  let saved: Uint8Array | undefined;
  try {
    try {
      ciphertext.loadFromArray(ctx.context, bytes);
      if (isNttForm) ctx.evaluator.cipherTransformFromNttInplace(ciphertext);
      else ctx.evaluator.cipherTransformToNttInplace(ciphertext);
      saved = new Uint8Array(ciphertext.saveToArray(ctx.seal.ComprModeType.none) as ArrayLike<number>);
    } catch (error) {
      throw new ThresholdError(`SEAL could not move a polynomial ${isNttForm ? "out of" : "to"} NTT form.`, {
        details: describeSealException(error),
        cause: error,
      });
    }
    const transformed = parseCiphertext(saved);
    const out = new BigUint64Array(ciphertextPolynomial(transformed, 0));
    transformed.data.fill(0n);
    return out;
  } finally {
    bytes.fill(0);
    saved?.fill(0);
    try {
      ciphertext.loadFromArray(ctx.context, withOne(new BigUint64Array(k * degree)));
    } catch {
      // The handle never held the polynomial if loading failed in the first place.
    }
    ciphertext.delete();
  }
}
