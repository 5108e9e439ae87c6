import { InvalidInputError } from "@ciphershare/protocol/errors";

/**
 * Noise flooding for released CKKS decryptions. SEAL's CKKS is IND-CPA but not IND-CPA-D: a decrypted
 * value carries the ciphertext's error, and enough published decryptions let an observer solve for the
 * secret key (Li & Micciancio, 2020). Adding fresh Gaussian noise much wider than that error hides it
 * statistically (the distance between e + N(0,σ²) and N(0,σ²) is about |e|/σ per value).
 *
 * Defaults per parameter set are 2^10 times the measured standard deviation of the decryption error of
 * a FedAvg output, rounded up to a power of two (see docs/ckks.md for the measurements and the effect
 * on precision). They are a mitigation, not a proof: full IND-CPA-D security would need σ ≈ 2^40·|e|,
 * which would drown model updates; the custodian also decrypts only one output per round.
 */
export const DEFAULT_FLOODING_SIGMA: Readonly<Record<string, number>> = Object.freeze({
  "fast-v1": 2 ** -19,
  "deep-v1": 2 ** -28,
});

/** A source of uniform random 32-bit words; `cryptoRandomWords` unless a test needs repeatability. */
export type RandomWords = (count: number) => Uint32Array;

/** Uniform words from the platform CSPRNG (Web Crypto, available in Node and browsers). */
export const cryptoRandomWords: RandomWords = (count) => {
  const words = new Uint32Array(count);
  for (let offset = 0; offset < count; offset += 16384) {
    globalThis.crypto.getRandomValues(words.subarray(offset, Math.min(count, offset + 16384)));
  }
  return words;
};

/** `count` independent N(0, σ²) samples (Box–Muller on 53-bit uniforms). */
export function gaussianNoise(count: number, sigma: number, random: RandomWords = cryptoRandomWords): Float64Array {
  if (!(sigma >= 0) || !Number.isFinite(sigma)) {
    throw new InvalidInputError("The flooding σ must be a finite non-negative number.", { details: `${sigma}` });
  }
  const out = new Float64Array(count);
  if (sigma === 0) return out;
  const words = random(4 * Math.ceil(count / 2));
  const uniform = (i: number) => ((words[i] >>> 5) * 67108864 + (words[i + 1] >>> 6) + 1) / 9007199254740993;
  for (let i = 0, w = 0; i < count; i += 2, w += 4) {
    const radius = sigma * Math.sqrt(-2 * Math.log(uniform(w)));
    const angle = 2 * Math.PI * uniform(w + 2);
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** Adds N(0, σ²) to every value in place and returns the array. */
export function floodWithNoise(
  values: Float64Array,
  sigma: number,
  random: RandomWords = cryptoRandomWords,
): Float64Array {
  const noise = gaussianNoise(values.length, sigma, random);
  for (let i = 0; i < values.length; i++) values[i] += noise[i];
  return values;
}
