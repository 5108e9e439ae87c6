import { InvalidInputError } from "@ciphershare/protocol/errors";

/**
 * A usage-metered program's public terms for one reporting period: how many contributors the attribution vectors
 * cover (in the program's contributor order) and the per-generation cap, the most attribution one generation may
 * carry in total (Σ_i v_i ≤ cap; 1 for normalized attributions such as a softmax over style similarities). The cap
 * bounds every total by generations × cap, which sizes the output's scale and the custodian's range check.
 */
export interface UsageRules {
  readonly contributors: number;
  readonly generationCap: number;
}

/** Above this the slot layout (contributors padded to a power of two) no longer leaves room for generations. */
export const MAX_USAGE_CONTRIBUTORS = 4096;

export function assertValidUsageRules(rules: UsageRules): void {
  if (!Number.isInteger(rules.contributors) || rules.contributors < 1 || rules.contributors > MAX_USAGE_CONTRIBUTORS) {
    throw new InvalidInputError("A usage program needs between 1 and 4096 contributors.", {
      details: `contributors = ${rules.contributors}`,
    });
  }
  if (!Number.isFinite(rules.generationCap) || rules.generationCap <= 0) {
    throw new InvalidInputError("The per-generation cap must be a positive number.", {
      details: `generationCap = ${rules.generationCap}`,
    });
  }
}
