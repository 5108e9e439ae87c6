import type { CkksContext } from "../ckks/context";
import { describeSealException } from "../ckks/seal";
import { ThresholdError } from "./errors";
import { cryptoRandomFill, signedToResidues, type RandomFill } from "./modular";
import type { ModulusLevel } from "./modulus-chain";
import { ciphertextPolynomial, parseCiphertext, serializeCiphertext } from "./seal-format";

/** Far above any σ a ciphertext with room for its message could take (partial-decryption.ts checks the fit). */
export const MAX_SMUDGING_SIGMA = 2 ** 100;
/** Box–Muller doubles resolve integers up to about 2^52; wider samples get their low bits from a dither. */
const EXACT_GAUSSIAN_BITS = 47;

/**
 * `count` independent samples of round(N(0, σ²)) from the CSPRNG: Box–Muller on 53-bit uniforms in (0, 1).
 * When σ exceeds 2^47 a double cannot resolve every integer in the bulk of the distribution (noise on a
 * coarse grid would not smudge), so the sample is drawn on the grid 2^g (g = ⌈log2 σ⌉ − 47) and its low g
 * bits are filled with an independent uniform dither centred on zero.
 */
export function roundedGaussian(count: number, sigma: number, random: RandomFill = cryptoRandomFill): bigint[] {
  if (!Number.isFinite(sigma) || sigma < 0 || sigma > MAX_SMUDGING_SIGMA) {
    throw new ThresholdError("The smudging σ must be a finite number in [0, 2^100].", { details: `σ = ${sigma}` });
  }
  const out: bigint[] = new Array<bigint>(count).fill(0n);
  if (sigma === 0) return out;
  const gridBits = Math.max(0, Math.ceil(Math.log2(sigma)) - EXACT_GAUSSIAN_BITS);
  const grid = 2 ** gridBits;
  const words = new BigUint64Array(2 * Math.ceil(count / 2) + (gridBits > 0 ? count : 0));
  random(new Uint8Array(words.buffer));
  const uniform = (i: number) => (Number(words[i] >> 11n) + 0.5) / 2 ** 53;
  const dither = (i: number): bigint =>
    gridBits === 0 ? 0n : BigInt.asUintN(gridBits, words[words.length - count + i]) - (1n << BigInt(gridBits - 1));
  const sample = (x: number, i: number) => BigInt(Math.round(x / grid)) * BigInt(grid) + dither(i);
  for (let i = 0; i < count; i += 2) {
    const radius = sigma * Math.sqrt(-2 * Math.log(uniform(i)));
    const angle = 2 * Math.PI * uniform(i + 1);
    out[i] = sample(radius * Math.cos(angle), i);
    if (i + 1 < count) out[i + 1] = sample(radius * Math.sin(angle), i + 1);
  }
  words.fill(0n);
  return out;
}

/**
 * Moves a coefficient-form polynomial (small signed integers) to NTT form at `level`, with SEAL's own NTT:
 * it goes in as polynomial 0 of a coefficient-form ciphertext, `transformToNtt` converts it, and it is read
 * back. SEAL refuses to transform a ciphertext whose second polynomial is zero, so that one holds the
 * constant 1 and is dropped. Every buffer that held the polynomial is zeroed before returning.
 */
export function coefficientsToNtt(ctx: CkksContext, level: ModulusLevel, coefficients: bigint[]): BigUint64Array {
  const degree = ctx.parameterSet.polyModulusDegree;
  if (coefficients.length !== degree) {
    throw new ThresholdError("A polynomial has N coefficients.", { details: `${coefficients.length} ≠ ${degree}` });
  }
  const k = level.primes.length;
  const data = new BigUint64Array(2 * k * degree);
  const residues = signedToResidues(coefficients, level.primes);
  data.set(residues);
  residues.fill(0n);
  for (let j = 0; j < k; j++) data[(k + j) * degree] = 1n;
  const raw = {
    parmsId: level.parmsId,
    isNttForm: false,
    size: 2,
    polyModulusDegree: degree,
    coeffModulusSize: k,
    scale: 1,
    correctionFactor: 1n,
    data,
  };
  const bytes = serializeCiphertext(raw);
  data.fill(0n);
  const ciphertext = new ctx.seal.Ciphertext();
  let saved: Uint8Array | undefined;
  try {
    try {
      ciphertext.loadFromArray(ctx.context, bytes);
      ctx.evaluator.cipherTransformToNttInplace(ciphertext);
      saved = new Uint8Array(ciphertext.saveToArray(ctx.seal.ComprModeType.none) as ArrayLike<number>);
    } catch (error) {
      throw new ThresholdError("SEAL could not move the noise polynomial to NTT form.", {
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
    // Overwrite the WASM copy before freeing it: freed heap is reused, not cleared.
    try {
      ciphertext.loadFromArray(ctx.context, serializeCiphertext({ ...raw, data: zeroWithOnes(k, degree) }));
    } catch {
      // The handle never held the noise if loading failed in the first place.
    }
    ciphertext.delete();
  }
}

function zeroWithOnes(k: number, degree: number): BigUint64Array {
  const data = new BigUint64Array(2 * k * degree);
  for (let j = 0; j < k; j++) data[(k + j) * degree] = 1n;
  return data;
}

/** A member's smudging polynomial at `level`, NTT form: round(N(0, σ²)) per coefficient, from the CSPRNG. */
export function smudgingNoise(
  ctx: CkksContext,
  level: ModulusLevel,
  sigma: number,
  random: RandomFill = cryptoRandomFill,
): BigUint64Array {
  const coefficients = roundedGaussian(ctx.parameterSet.polyModulusDegree, sigma, random);
  try {
    return coefficientsToNtt(ctx, level, coefficients);
  } finally {
    coefficients.fill(0n);
  }
}
