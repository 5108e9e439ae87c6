// The model operator role (issue 15, docs/usage.md): the inference service that attributes each generation to the
// program's contributors. Per reporting period it screens its attribution vectors (bad ones excluded with a
// reason), encrypts the valid ones under the program's verified key into UsageBatch envelopes, uploads them, and
// commits a usage report naming every batch by hash and count: on today's contracts the report is committed as
// the operator's contribution to the round (seal of its hash, sample count = the period's generation count), and
// revealed like any contribution in the reveal phase.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import type { UsageExclusionReason } from "@ciphershare/protocol/records/usage-report";
import type { ChainSigner } from "../chain/clients";
import type { BlobStore } from "../storage/blob-store";
import { DEFAULT_USAGE_BATCH, prepareUsageReport } from "../usage/report";
import type { UsageRules } from "../usage/rules";
import { ContributorError, keepAndCommit, readRoundContext, verifiedBundle } from "./contributor";

/** The development account the operator signs with unless told otherwise (the last one the chain funds). */
export const OPERATOR_ACCOUNT = 19;

export interface UsageReportOutcome {
  readonly reportHash: Hex;
  readonly seal: Hex;
  readonly deposit: bigint;
  readonly generations: number;
  readonly batches: readonly { readonly hash: Hex; readonly generations: number }[];
  readonly uploadBytes: number;
  readonly excluded: Readonly<Record<UsageExclusionReason, number>>;
  /** The first excluded generations with their reason (all of them: `<localDir>/round-N.exclusions.json`). */
  readonly firstExclusions: readonly { generation: number; reason: UsageExclusionReason; details: string }[];
}

/**
 * Reports a period's usage for round `roundId` (commit phase): verifies the program's bundle against the chain,
 * screens and encrypts the vectors in batches, uploads every batch (checking the store kept the bytes), keeps the
 * report until the reveal and commits its seal with the period's generation count. Every excluded generation and
 * its reason goes to `<localDir>/round-N.exclusions.json`.
 */
export async function reportUsage(
  deployment: Deployment,
  operator: ChainSigner,
  store: BlobStore,
  options: {
    roundId: bigint;
    vectors: readonly ArrayLike<number>[];
    rules: UsageRules;
    batchSize?: number;
    localDir: string;
    onBatch?: (done: number, total: number) => void;
  },
): Promise<UsageReportOutcome> {
  const context = await readRoundContext(deployment, operator.reader, store, options.roundId);
  const ctx = await CkksContext.create(context.config.parameterSet);
  try {
    const key = await verifiedBundle(ctx, store, context.publicBundleHash, options.localDir);
    try {
      const prepared = await prepareUsageReport(ctx, key, options.rules, options.vectors, {
        round: options.roundId,
        batchSize: options.batchSize ?? DEFAULT_USAGE_BATCH,
        onBatch: options.onBatch,
      });
      let uploadBytes = 0;
      for (const [i, batch] of prepared.batches.entries()) {
        // A batch is the round's input as much as the report that names it: stored for the round's readers only.
        const stored = await store.put(batch, { round: options.roundId });
        if (!sameHash(stored, prepared.report.batches[i].hash)) {
          throw new ContributorError("The blob store stored other bytes than the batch.", { details: stored });
        }
        uploadBytes += batch.length;
      }
      writeFileSync(
        join(options.localDir, `round-${options.roundId}.exclusions.json`),
        `${JSON.stringify(prepared.excluded)}\n`,
      );
      const committed = await keepAndCommit(deployment, operator, {
        roundId: options.roundId,
        bytes: prepared.reportBytes,
        sampleCount: prepared.report.generations,
        localDir: options.localDir,
      });
      return {
        reportHash: committed.ciphertextHash,
        seal: committed.seal,
        deposit: committed.deposit,
        generations: prepared.report.generations,
        batches: prepared.report.batches,
        uploadBytes,
        excluded: prepared.report.excluded,
        firstExclusions: prepared.excluded.slice(0, 10),
      };
    } finally {
      key.dispose();
    }
  } finally {
    ctx.dispose();
  }
}
