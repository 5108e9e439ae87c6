import { InvalidInputError } from "@ciphershare/protocol/errors";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { hexToBytes, type Hex } from "@ciphershare/protocol/hex";
import { multiply, transposeMultiply, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import { deriveSeed, SeededRandom } from "../../random/seeded-random";
import {
  FEW_VARIABLES_TAIL,
  freshVariance,
  keySwitchVariance,
  roundingVariance,
  type NoiseBound,
  type NoiseParameters,
} from "../../threshold/noise-bound";
import { packModel } from "./layout";

/**
 * Submitted projections and their consistency check (pure, no SEAL).
 *
 * R is public (the validation kernel's factor), so a contributor can compute its projection z_i = R·w_i in plaintext
 * and encrypt it next to w_i, in the layout the Gram terms need (vec(z_i), row-major d×c, like vec(w_i)). The
 * coprocessor then skips the projection (55 rotations + 785 plaintext products per client) and checks instead, with
 * public random challenges drawn after submissions close, that the submitted z_i is R·w_i:
 *
 *   r_i = ⟨ρ_i, vec(R·w_i)⟩ − ⟨ρ_i, vec(z_i)⟩ = ⟨v_i, vec(w_i)⟩ − ⟨ρ_i, vec(z_i)⟩,   v_i = vec(Rᵀ·P_i),
 *
 * P_i being ρ_i read as a d×c matrix (⟨P, R·W⟩_F = ⟨RᵀP, W⟩_F). Under encryption that is two plaintext products at
 * the first level and one slot sum for all checked clients together: Σ_i r_i, one number, released flooded.
 *
 * Soundness: ρ_i has independent N(0, 1/(d·c)) entries, so for a submission with error e_i = vec(z_i − R·w_i) the
 * released Σ_i r_i (minus CKKS noise) is N(0, Σ_i ‖e_i‖²/(d·c)) whatever the contributors chose before the challenge,
 * and it lands within ±τ with probability at most √(2/π)·τ·√(d·c)/‖e‖ (docs/shapley.md).
 */

/** The challenge of one client: ρ_i (d·c normals in the first d·c slots) and v_i = vec(Rᵀ·P_i), both public. */
export interface ProjectionChallenge {
  readonly rho: Float64Array;
  readonly v: Float64Array;
}

/** Contributor: z = R·w (d×c), the projection it submits encrypted next to w. */
export function projectModel(r: Matrix, w: Matrix): Matrix {
  if (r.rows !== r.cols || r.cols !== w.rows) {
    throw new InvalidInputError("The projection needs a square R with as many columns as the model has rows.", {
      details: `R ${r.rows}×${r.cols}, w ${w.rows}×${w.cols}`,
    });
  }
  return multiply(r, w);
}

/**
 * A round's challenge seed: keccak256(commitments hash ‖ the randomness of a block mined after submissions closed).
 * The commitments hash alone could be ground by the last committer (re-encrypt, re-commit, retry until the challenge
 * suits it); the later block's randomness is unknown when the last envelope is fixed. Anyone re-derives it.
 */
export async function roundChallengeSeed(commitmentsHash: Hex, laterBlockRandomness: Hex): Promise<Hex> {
  return keccak256([hexToBytes(commitmentsHash, 32), hexToBytes(laterBlockRandomness, 32)]);
}

/**
 * The 48-bit base of the challenges from a public 32-byte value fixed only after submissions close (the round's
 * commitments hash mixed with a later block hash; any party re-derives it).
 */
export function challengeBase(seed: Hex): number {
  const bytes = hexToBytes(seed, 32);
  let base = 0;
  for (let i = 0; i < 6; i++) base = base * 256 + bytes[i];
  return base;
}

/** Client `index`'s challenge under `seed`: deterministic, so the auditor re-derives every bit of it. */
export function projectionChallenge(
  seed: Hex,
  index: number,
  r: Matrix,
  c: number,
  slotCount: number,
): ProjectionChallenge {
  const d = r.rows;
  const random = new SeededRandom(deriveSeed(challengeBase(seed), index));
  const scale = 1 / Math.sqrt(d * c);
  const p = new Float64Array(d * c);
  for (let k = 0; k < p.length; k++) p[k] = random.nextNormal() * scale;
  const rho = packModel({ rows: d, cols: c, data: p }, slotCount);
  const v = packModel(transposeMultiply(r, { rows: d, cols: c, data: p }), slotCount);
  return { rho, v };
}

/** The residual Σ_i (⟨v_i, w_i⟩ − ⟨ρ_i, z_i⟩) in float64: what an honest check decrypts to, up to CKKS noise. */
export function plaintextResidual(
  challenges: readonly ProjectionChallenge[],
  models: readonly Matrix[],
  projections: readonly Matrix[],
): number {
  let sum = 0;
  challenges.forEach(({ rho, v }, i) => {
    for (let k = 0; k < models[i].data.length; k++) sum += v[k] * models[i].data[k] - rho[k] * projections[i].data[k];
  });
  return sum;
}

function squaredNorm(values: Float64Array): number {
  let sum = 0;
  for (const value of values) sum += value * value;
  return sum;
}

/**
 * Error bound of the released residual ciphertext (ring units), for the custodian's flooding. It sits at φ's level
 * (three primes dropped) and scale S = Δ²/q(L−1). The fresh errors of w_i and z_i (encryption plus encoding rounding,
 * at scale Δ) reach the residual through ⟨v_i, ·⟩ and ⟨ρ_i, ·⟩, i.e. scaled by S/Δ; the rescale's rounding and the
 * 13 rotations' key switching at that level are slot-summed with it (a white error's slot sum has variance
 * N²/2 · its coefficient variance, the rotations' errors at most that). The result is close to a constant
 * polynomial, so its ℓ2 norm is the residual's error in ring units.
 */
export function consistencyNoiseBound(p: NoiseParameters, challenges: readonly ProjectionChallenge[]): NoiseBound {
  const n = p.polyModulusDegree;
  const last = p.dataPrimes.length - 1;
  const scale = (p.scale * p.scale) / p.dataPrimes[last - 1];
  const fresh = (freshVariance(p) + 1 / 12) * (scale / p.scale) ** 2;
  let weights = 0;
  for (const { rho, v } of challenges) weights += squaredNorm(rho) + squaredNorm(v);
  const summed = ((n * n) / 2) * (roundingVariance(p) + keySwitchVariance(p, last - 2));
  const expected = Math.sqrt(n * fresh * weights + summed);
  return { computation: "fresh", l2: FEW_VARIABLES_TAIL * expected, expectedL2: expected, scale };
}

/**
 * The tolerance on a released residual: an honest check's value is CKKS error (bounded by `bound`) plus the custodian's
 * flooding (standard deviation `floodingSigma`, value units) plus the contributors' float64 rounding of R·w (relative
 * 2^-40 of ⟨v_i, w_i⟩ at most, with ‖w_i‖_F ≤ `modelNormBound`); τ is `FEW_VARIABLES_TAIL` standard deviations of
 * the random parts plus the deterministic ones.
 */
export function consistencyTolerance(
  bound: NoiseBound,
  floodingSigma: number,
  challenges: readonly ProjectionChallenge[],
  modelNormBound: number,
): number {
  let rounding = 0;
  for (const { v } of challenges) rounding += Math.sqrt(squaredNorm(v)) * modelNormBound * 2 ** -40;
  return bound.l2 / bound.scale + FEW_VARIABLES_TAIL * floodingSigma + rounding;
}
