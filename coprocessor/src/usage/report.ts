import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import type { EncryptionKey } from "@ciphershare/protocol/ckks/keys";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { encodeUsageReport, type UsageReport } from "@ciphershare/protocol/records/usage-report";
import { exclusionCounts, screenAttributions, type ExcludedGeneration } from "./attribution";
import { encryptUsageBatch } from "./batch";
import type { UsageRules } from "./rules";

/** Generations per uploaded batch unless the operator says otherwise. */
export const DEFAULT_USAGE_BATCH = 1000;

export interface PreparedUsageReport {
  readonly report: UsageReport;
  /** The report's canonical bytes: their keccak256 is what the operator seals on-chain. */
  readonly reportBytes: Uint8Array;
  readonly batches: readonly Uint8Array[];
  readonly excluded: readonly ExcludedGeneration[];
}

/**
 * The operator's period, before any I/O: screens the vectors (bad ones excluded with their reason), encrypts the
 * valid ones under the program key in batches of `batchSize` generations, and writes the report naming every batch
 * by hash and count. Refuses a period in which no generation is valid (there is nothing to report).
 */
export async function prepareUsageReport(
  ctx: CkksContext,
  key: Pick<EncryptionKey, "parameterSetId" | "hash" | "encryptor">,
  rules: UsageRules,
  vectors: readonly ArrayLike<number>[],
  options: { round: bigint; batchSize?: number; onBatch?: (done: number, total: number) => void },
): Promise<PreparedUsageReport> {
  const batchSize = options.batchSize ?? DEFAULT_USAGE_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new InvalidInputError("The batch size must be a positive integer.", { details: `${batchSize}` });
  }
  const screened = screenAttributions(vectors, rules);
  if (screened.included.length === 0) {
    throw new InvalidInputError("No valid attribution vector in this period: nothing to report.", {
      details: `${screened.excluded.length} excluded, first: ${screened.excluded[0]?.reason ?? "none"}`,
    });
  }
  const batches: Uint8Array[] = [];
  const entries: { hash: `0x${string}`; generations: number }[] = [];
  const total = Math.ceil(screened.included.length / batchSize);
  for (let from = 0; from < screened.included.length; from += batchSize) {
    const slice = screened.included.slice(from, from + batchSize);
    const envelope = await encryptUsageBatch(ctx, key, rules, slice);
    batches.push(envelope);
    entries.push({ hash: await envelopeCommitment(envelope), generations: slice.length });
    options.onBatch?.(batches.length, total);
  }
  const report: UsageReport = {
    kind: "ciphershare.usage-report",
    version: 1,
    round: options.round.toString(),
    parameterSet: ctx.parameterSet.id,
    publicBundleHash: key.hash,
    contributors: rules.contributors,
    generationCap: rules.generationCap,
    generations: screened.included.length,
    batches: entries,
    excluded: exclusionCounts(screened.excluded),
  };
  return { report, reportBytes: encodeUsageReport(report), batches, excluded: screened.excluded };
}
