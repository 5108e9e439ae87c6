import { InvalidInputError } from "@ciphershare/protocol/errors";
import { largestRemainderShares, type PoolShares } from "../payouts/shares";

/**
 * How a usage program splits its pool: `usageWeight` of it by usage totals and the rest by the contributors'
 * Shapley scores (e.g. 0.7 usage, 0.3 quality), both as fractions of their own positive sum; 1 (pure usage) needs
 * no scores. Released totals carry the flooding noise, so a total at or below `resolution` counts as no usage.
 */
export interface RoyaltyMix {
  readonly usageWeight: number;
  readonly resolution: number;
}

function positiveFractions(values: readonly number[], floor: number): number[] {
  const clipped = values.map((v) => (v > floor ? v : 0));
  const sum = clipped.reduce((a, b) => a + b, 0);
  return sum > 0 ? clipped.map((v) => v / sum) : clipped.map(() => 0);
}

/** Each contributor's mixed score: usageWeight·usage_i/Σusage + (1 − usageWeight)·φ⁺_i/Σφ⁺. */
export function usageRoyaltyScores(totals: ArrayLike<number>, mix: RoyaltyMix, shapley?: readonly number[]): number[] {
  const usage = Array.from(totals);
  usage.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      throw new InvalidInputError("Usage totals must be finite numbers.", { details: `contributor ${i}: ${v}` });
    }
  });
  if (!(mix.usageWeight >= 0 && mix.usageWeight <= 1)) {
    throw new InvalidInputError("The usage weight of the mix must lie in [0, 1].", {
      details: `usageWeight = ${mix.usageWeight}`,
    });
  }
  if (!(mix.resolution >= 0) || !Number.isFinite(mix.resolution)) {
    throw new InvalidInputError("The resolution must be a non-negative number.", {
      details: `resolution = ${mix.resolution}`,
    });
  }
  const usageShare = positiveFractions(usage, mix.resolution);
  if (mix.usageWeight === 1) return usageShare;
  if (!shapley || shapley.length !== usage.length) {
    throw new InvalidInputError("A mix with Shapley scores needs one score per contributor.", {
      details: `${shapley?.length ?? 0} scores for ${usage.length} contributors`,
    });
  }
  shapley.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      throw new InvalidInputError("Shapley scores must be finite numbers.", { details: `contributor ${i}: ${v}` });
    }
  });
  const qualityShare = positiveFractions(shapley, 0);
  return usageShare.map((u, i) => mix.usageWeight * u + (1 - mix.usageWeight) * qualityShare[i]);
}

/** Integer royalties of the pool by the mixed scores, with the payouts' largest-remainder rounding. */
export function usageRoyaltyShares(
  pool: bigint,
  totals: ArrayLike<number>,
  mix: RoyaltyMix,
  shapley?: readonly number[],
): PoolShares {
  return largestRemainderShares(pool, usageRoyaltyScores(totals, mix, shapley));
}
