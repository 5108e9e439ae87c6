import { InvalidInputError } from "@ciphershare/protocol/errors";

/**
 * A program's public royalty rule for one usage type (an inference call, a generated image that used an
 * artist's style, a download): each counted use is worth `weight` score points, and a single usage
 * report counts at most `cap` uses of that type (so one noisy or inflated report cannot dominate).
 */
export interface UsageType {
  readonly name: string;
  readonly weight: number;
  readonly cap: number;
}

export interface RoyaltyRules {
  readonly usageTypes: readonly UsageType[];
}

export function assertValidRules(rules: RoyaltyRules): void {
  if (rules.usageTypes.length === 0) throw new InvalidInputError("Royalty rules need at least one usage type.");
  const names = new Set<string>();
  for (const type of rules.usageTypes) {
    if (names.has(type.name)) throw new InvalidInputError("Usage type names must be unique.", { details: type.name });
    names.add(type.name);
    if (!Number.isFinite(type.weight) || type.weight < 0) {
      throw new InvalidInputError("Usage weights must be non-negative numbers.", {
        details: `${type.name}: weight ${type.weight}`,
      });
    }
    if (!Number.isFinite(type.cap) || type.cap < 0) {
      throw new InvalidInputError("Usage caps must be non-negative numbers.", {
        details: `${type.name}: cap ${type.cap}`,
      });
    }
  }
}

/**
 * One usage report as it is encrypted: counts per usage type, in rule order, each clipped to its cap.
 * Clipping happens where the counts are known in the clear (the metering service), because CKKS cannot
 * take a minimum of encrypted values; everything after this point is linear and runs under encryption.
 */
export function cappedUsage(rules: RoyaltyRules, counts: readonly number[]): Float64Array {
  assertValidRules(rules);
  if (counts.length !== rules.usageTypes.length) {
    throw new InvalidInputError("A usage report needs one count per usage type.", {
      details: `${counts.length} counts for ${rules.usageTypes.length} types`,
    });
  }
  return Float64Array.from(counts, (count, t) => {
    if (!Number.isFinite(count) || count < 0) {
      throw new InvalidInputError("Usage counts must be non-negative numbers.", {
        details: `${rules.usageTypes[t].name}: ${count}`,
      });
    }
    return Math.min(count, rules.usageTypes[t].cap);
  });
}

/** Plaintext reference: score_i = Σ_reports Σ_t weight_t · min(count_t, cap_t). */
export function usageScores(rules: RoyaltyRules, reportsByContributor: readonly (readonly number[][])[]): number[] {
  return reportsByContributor.map((reports) =>
    reports.reduce((score, counts) => {
      const capped = cappedUsage(rules, counts);
      return score + capped.reduce((sum, value, t) => sum + value * rules.usageTypes[t].weight, 0);
    }, 0),
  );
}
