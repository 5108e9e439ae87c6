import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { deleteAll, sealCall, type Ciphertext, type Encryptor, type GaloisKeys } from "@ciphershare/protocol/ckks/seal";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { assertValidRules, cappedUsage, type RoyaltyRules } from "./usage";
import { sumSlotsInplace } from "../shapley/encrypted/slots";

/**
 * Usage/metric royalties under CKKS (depth 2, so fast-v1 suffices; Galois keys for the power-of-two slot
 * sum). A metering service encrypts each usage report as capped counts per usage type (slot t). The
 * coprocessor adds a contributor's reports, weights them by the public rule weights, sums the slots and
 * moves the score into slot i, so one ciphertext carries every contributor's score and the custodian
 * decrypts only that. Shares then follow from `largestRemainderShares`.
 */
export function encryptUsageReport(
  ctx: CkksContext,
  rules: RoyaltyRules,
  counts: readonly number[],
  encryptor: Encryptor,
): Ciphertext {
  const capped = cappedUsage(rules, counts);
  if (capped.length > ctx.slotCount) {
    throw new InvalidInputError("Too many usage types for one ciphertext.", { details: `${capped.length}` });
  }
  return ctx.encrypt(capped, encryptor);
}

/** One ciphertext with Σ_reports Σ_t weight_t·count_t of contributor i in slot i (zeros elsewhere). */
export function aggregateUsageScores(
  ctx: CkksContext,
  galoisKeys: GaloisKeys,
  rules: RoyaltyRules,
  reportsByContributor: readonly (readonly Ciphertext[])[],
): Ciphertext {
  assertValidRules(rules);
  const n = reportsByContributor.length;
  if (n === 0 || n > ctx.slotCount) {
    throw new InvalidInputError("The number of contributors must fit in the slots.", { details: `${n}` });
  }
  const weights = ctx.encode(Float64Array.from(rules.usageTypes, (type) => type.weight));
  const total = new ctx.seal.Ciphertext();
  let started = false;
  const temporaries: (Ciphertext | { delete(): void; isDeleted(): boolean })[] = [weights];
  try {
    reportsByContributor.forEach((reports, i) => {
      if (reports.length === 0) return; // no usage, score 0: nothing to add (and no transparent ciphertext)
      const usage = new ctx.seal.Ciphertext();
      const weighted = new ctx.seal.Ciphertext();
      temporaries.push(usage, weighted);
      sealCall("add usage reports", () => {
        usage.assign(reports[0]);
        for (const report of reports.slice(1)) ctx.evaluator.addInplace(usage, report);
      });
      if (!started) ctx.switchPlaintextToLevelOf(weights, usage);
      sealCall("weight usage by the royalty rules", () => {
        ctx.evaluator.multiplyPlain(usage, weights, weighted);
        ctx.evaluator.rescaleToNextInplace(weighted);
      });
      sumSlotsInplace(ctx, galoisKeys, weighted);
      const oneHot = new Float64Array(ctx.slotCount);
      oneHot[i] = 1;
      const mask = ctx.encode(oneHot, { levelOf: weighted });
      temporaries.push(mask);
      sealCall("place a contributor's score", () => {
        ctx.evaluator.multiplyPlainInplace(weighted, mask);
        ctx.evaluator.rescaleToNextInplace(weighted);
        if (!started) total.assign(weighted);
        else ctx.evaluator.addInplace(total, weighted);
      });
      started = true;
    });
    if (!started) throw new InvalidInputError("No contributor has any usage report.");
    return total;
  } catch (error) {
    total.delete();
    throw error;
  } finally {
    deleteAll(...temporaries);
  }
}
