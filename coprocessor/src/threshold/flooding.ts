import { ThresholdError } from "./errors";
import { MAX_SMUDGING_SIGMA } from "./smudging";

/**
 * How much each decrypting member floods. SEAL's CKKS is IND-CPA but not IND-CPA-D: a decryption reveals the
 * ciphertext's error e, a function of the secret key (Li & Micciancio 2020). Each member adds a rounded
 * Gaussian of width σ to its partial decryption, with the rule OpenFHE's NOISE_FLOODING_DECRYPT mode and the
 * IND-CPA-D literature use for Gaussian flooding (Rényi-divergence argument):
 *
 *   log2 σ = log2 B + s/2 + ½·log2(64·τ)
 *
 * B: a high-probability bound on ‖e‖₂ of the ciphertext (see noise-bound.ts), s: statistical security in
 * bits, τ: decryptions the key serves over its lifetime. Every member adds the full σ, so the noise of any
 * one honest member suffices even if the other t − 1 publish theirs.
 */
export interface FloodingPolicy {
  /** s ≥ 30. */
  readonly statisticalSecurityBits: number;
  /** τ: ciphertexts this key will ever decrypt (each round releases two single-ciphertext outputs). */
  readonly decryptionBudget: number;
}

/** s = 30 bits over τ = 2^10 decryptions: 512 rounds of one epoch's keys. */
export const DEFAULT_FLOODING_POLICY: FloodingPolicy = Object.freeze({
  statisticalSecurityBits: 30,
  decryptionBudget: 2 ** 10,
});

export const MIN_STATISTICAL_SECURITY_BITS = 30;

/** σ (ring units, per coefficient) each member adds for a ciphertext whose error is bounded by `errorBound`. */
export function smudgingSigma(errorBound: number, policy: FloodingPolicy = DEFAULT_FLOODING_POLICY): number {
  const { statisticalSecurityBits: s, decryptionBudget: tau } = policy;
  if (!Number.isFinite(s) || s < MIN_STATISTICAL_SECURITY_BITS) {
    throw new ThresholdError(`Flooding needs at least ${MIN_STATISTICAL_SECURITY_BITS} bits of statistical security.`, {
      details: `s = ${s}`,
    });
  }
  if (!Number.isSafeInteger(tau) || tau < 1) {
    throw new ThresholdError("The decryption budget τ must be a positive integer.", { details: `τ = ${tau}` });
  }
  if (!Number.isFinite(errorBound) || errorBound <= 0) {
    throw new ThresholdError("The error bound must be a positive finite number.", { details: `B = ${errorBound}` });
  }
  const sigma = 2 ** (Math.log2(errorBound) + s / 2 + Math.log2(64 * tau) / 2);
  if (sigma > MAX_SMUDGING_SIGMA) {
    throw new ThresholdError("The flooding this ciphertext needs is wider than the sampler supports.", {
      details: `σ = 2^${Math.log2(sigma).toFixed(1)} > 2^100 (B = 2^${Math.log2(errorBound).toFixed(1)})`,
    });
  }
  return sigma;
}

/**
 * Standard deviation, in value units, that flooding adds to each released (real) slot when `members`
 * partial decryptions each carry σ: white noise of variance members·σ² per coefficient lands in a slot as
 * a sum of N coefficients, so the real part has variance members·σ²·N/2, divided by the scale.
 */
export function releasedNoiseStd(sigma: number, members: number, polyModulusDegree: number, scale: number): number {
  return (Math.sqrt(members) * sigma * Math.sqrt(polyModulusDegree / 2)) / scale;
}
