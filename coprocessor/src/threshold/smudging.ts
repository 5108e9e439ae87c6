import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { ThresholdError } from "./errors";
import { cryptoRandomFill, signedToResidues, type RandomFill } from "./modular";
import type { ModulusLevel } from "./modulus-chain";
import { transformWithSeal } from "./ntt";

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

/** A coefficient-form polynomial of small signed integers in NTT form at `level`, by SEAL's own NTT. */
export function coefficientsToNtt(ctx: CkksContext, level: ModulusLevel, coefficients: bigint[]): BigUint64Array {
  const degree = ctx.parameterSet.polyModulusDegree;
  if (coefficients.length !== degree) {
    throw new ThresholdError("A polynomial has N coefficients.", { details: `${coefficients.length} ≠ ${degree}` });
  }
  const residues = signedToResidues(coefficients, level.primes);
  try {
    return transformWithSeal(ctx, level, residues, "to-ntt");
  } finally {
    residues.fill(0n);
  }
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
