import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { CkksError } from "@ciphershare/protocol/ckks/errors";
import { deleteAll, sealCall, type Ciphertext, type Plaintext } from "@ciphershare/protocol/ckks/seal";

/** J² = −UNIT_GAIN_SQUARED in every slot: J = ±i·√2 (see `imaginaryUnit`). */
export const UNIT_GAIN_SQUARED = 2;

/**
 * J: the plaintext polynomial X^{N/4} + X^{3N/4} in NTT form at the level of a given ciphertext, scale 1: it
 * multiplies every slot by the same ±i·√2.
 *
 * Why: slot j of a CKKS plaintext m is m(ζ^{e_j}), ζ a primitive 2N-th root of unity and e_j = 3^j mod 2N (SEAL's slot
 * order uses the generator 3; the conjugate slots use −3^j). The monomial X^{N/2} is not enough: it evaluates to
 * i^{e_j}, which is +i or −i as e_j ≡ 1 or 3 (mod 4), i.e. alternates with j, so it does not commute with rotations by
 * odd steps (a window sum then mixes signs). With ω = ζ^{N/4} a primitive 8th root of unity, J(ζ^e) = ω^{3e} + ω^e =
 * i^e·(ω^e + ω^{−e}) = i^e·√2·(2/e), (2/e) the Kronecker symbol (+1 for e ≡ ±1, −1 for e ≡ ±3 mod 8). The product
 * i^{e−1}·(2/e) is a character of (ℤ/2Nℤ)^× that is 1 on 3 and −1 on −1, so it is constant on the slots {3^j} and
 * opposite on their conjugates: J = s·i·√2 in every slot for one sign s (SEAL's convention fixes s; the users below do
 * not depend on it). Hence J·J = −2, and J commutes with every rotation and flips sign under conjugation.
 *
 * Why it is exact and safe: multiplying by a monomial modulo X^N + 1 only permutes the coefficients of c0 and c1 and
 * negates some of them; J adds two such copies. Integer arithmetic modulo every prime: no rounding, no key, no level;
 * the scale is unchanged (the plaintext's scale is 1); the error polynomial is transformed the same way, so its slot
 * values are multiplied by √2 exactly (its coefficient ℓ2 norm by at most 2). It is public data, so anyone may apply
 * it; it works on ciphertexts of any size (an unrelinearized product too).
 *
 * How: SEAL's API cannot encode a complex constant (the encoder of node-seal takes real vectors) nor a chosen
 * polynomial. Its serialization can: a coefficient-form ciphertext's bytes (compression none) end with its data, size
 * × primes × N little-endian uint64s; we write J into c0 and c1 (coefficients 1 at indices N/4 and 3N/4 modulo every
 * prime; SEAL refuses a "transparent" ciphertext with c1 = 0), load it back (SEAL validates it), transform it to NTT
 * form with SEAL's own tables, and copy c0's NTT values into the data of a plaintext encoded at the same level (also a
 * tail of primes × N uint64s), which keeps the plaintext's header (its parms id, NTT flag and scale 1).
 */
export function imaginaryUnit(ctx: CkksContext, levelOf: Ciphertext): Plaintext {
  const { seal, evaluator } = ctx;
  const n = ctx.parameterSet.polyModulusDegree;
  const primes = levelOf.coeffModulusSize();
  const polyWords = primes * n;
  const coefficientForm = new seal.Ciphertext();
  const monomial = new seal.Ciphertext();
  let one: Plaintext | undefined;
  const unit = new seal.Plaintext();
  try {
    if (levelOf.size() !== 2) {
      throw new CkksError("The imaginary unit is built from a size-2 ciphertext of its level.", {
        details: `size ${levelOf.size()}`,
      });
    }
    // A template at the level: SEAL writes its header; its data is overwritten below.
    sealCall("take a coefficient-form template at the level", () =>
      evaluator.cipherTransformFromNtt(levelOf, coefficientForm),
    );
    const bytes = new Uint8Array(
      sealCall("serialize the template", () => coefficientForm.saveToArray(seal.ComprModeType.none)),
    );
    const tail = dataTail(bytes, 2 * polyWords, "ciphertext");
    tail.fill(0);
    const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    for (let poly = 0; poly < 2; poly++)
      for (let j = 0; j < primes; j++)
        for (const power of [n / 4, (3 * n) / 4]) view.setBigUint64(((poly * primes + j) * n + power) * 8, 1n, true);
    sealCall("load the polynomial X^(N/4) + X^(3N/4)", () => monomial.loadFromArray(ctx.context, bytes));
    sealCall("transform the monomial to NTT form", () => evaluator.cipherTransformToNttInplace(monomial));
    const nttBytes = new Uint8Array(
      sealCall("serialize the monomial", () => monomial.saveToArray(seal.ComprModeType.none)),
    );
    const c0 = dataTail(nttBytes, 2 * polyWords, "ciphertext").subarray(0, polyWords * 8);

    one = ctx.encodeConstant(1, { scale: 1, levelOf });
    const plainBytes = new Uint8Array(
      sealCall("serialize a unit plaintext", () => one!.saveToArray(seal.ComprModeType.none)),
    );
    dataTail(plainBytes, polyWords, "plaintext").set(c0);
    sealCall("load the imaginary unit", () => unit.loadFromArray(ctx.context, plainBytes));
    if (!unit.isNttForm() || unit.scale() !== 1) {
      throw new CkksError("The imaginary unit did not load as an NTT-form plaintext of scale 1.", {
        details: `ntt ${unit.isNttForm()}, scale ${unit.scale()}`,
      });
    }
    return unit;
  } catch (error) {
    unit.delete();
    throw error;
  } finally {
    deleteAll(coefficientForm, monomial, one);
  }
}

/**
 * The last `words` uint64s of a SEAL object serialized without compression: its data. SEAL's DynArray stores its
 * element count right before the elements, which we check so a format change fails loudly rather than corrupting J.
 */
function dataTail(bytes: Uint8Array, words: number, what: string): Uint8Array {
  const length = words * 8;
  if (bytes.length < length + 8) {
    throw new CkksError(`A serialized ${what} is shorter than its data.`, {
      details: `${bytes.length} bytes, ${length} bytes of data expected`,
    });
  }
  const count = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - length - 8, 8).getBigUint64(0, true);
  if (count !== BigInt(words)) {
    throw new CkksError(`Unexpected layout of a serialized ${what}: its data is not at its tail.`, {
      details: `element count ${count}, expected ${words}`,
    });
  }
  return bytes.subarray(bytes.length - length);
}
