import { InvalidInputError } from "@ciphershare/protocol/errors";

export interface PoolShares {
  /** Token units per contributor; they sum exactly to the pool unless nobody has a positive score. */
  readonly shares: bigint[];
  /** Indices of contributors whose score is ≤ 0 (free riders, harmful or poisoned updates): paid nothing. */
  readonly flagged: number[];
  /** The whole pool when no contributor has a positive score, otherwise 0. */
  readonly undistributed: bigint;
}

/** Scores are turned into integer weights with this many bits of precision relative to the largest. */
const WEIGHT_BITS = 52n;

/**
 * pool × max(score_i, 0) / Σ_j max(score_j, 0) in integer token units, with largest-remainder rounding so
 * the shares sum exactly to the pool. The division happens in bigint arithmetic, so pools far beyond
 * 2^53 units (18-decimal tokens) are split exactly; ties in the remainder go to the lower index.
 */
export function largestRemainderShares(pool: bigint, scores: readonly number[]): PoolShares {
  if (pool < 0n) throw new InvalidInputError("The pool must not be negative.", { details: `pool = ${pool}` });
  scores.forEach((score, i) => {
    if (!Number.isFinite(score)) {
      throw new InvalidInputError("Scores must be finite numbers.", { details: `contributor ${i}: ${score}` });
    }
  });
  const flagged = scores.flatMap((score, i) => (score > 0 ? [] : [i]));
  const largest = Math.max(0, ...scores);
  if (largest === 0) return { shares: scores.map(() => 0n), flagged, undistributed: pool };

  const weights = scores.map((score) =>
    score > 0 ? BigInt(Math.round((score / largest) * Number(1n << WEIGHT_BITS))) : 0n,
  );
  const totalWeight = weights.reduce((sum, w) => sum + w, 0n);
  const shares = weights.map((w) => (pool * w) / totalWeight);
  const remainders = weights.map((w, i) => ({ i, remainder: (pool * w) % totalWeight }));
  let leftover = pool - shares.reduce((sum, s) => sum + s, 0n);
  remainders.sort((a, b) => (a.remainder === b.remainder ? a.i - b.i : a.remainder > b.remainder ? -1 : 1));
  for (const { i } of remainders) {
    if (leftover === 0n) break;
    if (weights[i] === 0n) continue;
    shares[i] += 1n;
    leftover -= 1n;
  }
  return { shares, flagged, undistributed: 0n };
}
