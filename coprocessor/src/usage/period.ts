import { initKeccak, keccak256Sync } from "@ciphershare/protocol/hashing/keccak";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { decodeUsageReport, type UsageReport } from "@ciphershare/protocol/records/usage-report";
import type { UsageRules } from "./rules";
import { verifyUsageBatches, type UsageBatchCommitment, type VerifiedBatches } from "./verify";

/** Why the coprocessor left a revealed usage report out of the period. */
export type ReportProblem = "blob-missing" | "hash-mismatch" | "malformed" | "wrong-terms" | "count-mismatch";

export interface ExcludedReport {
  readonly index: number;
  readonly hash: Hex;
  readonly reason: ReportProblem;
  readonly details: string;
}

/** A revealed report as the chain shows it: its hash and the generation count committed with it. */
export interface RevealedReport {
  readonly hash: Hex;
  readonly committedGenerations: number;
}

export interface PeriodInputs extends VerifiedBatches {
  readonly excludedReports: readonly ExcludedReport[];
  /** The included reports' indices, in order. */
  readonly includedReports: readonly number[];
}

/**
 * Everything the coprocessor includes in a period, checked before any homomorphic work: each revealed report must
 * be stored, hash to its revealed hash, decode, be for this round under the program's terms (set, bundle,
 * contributors, cap) and state the generation count committed with it on-chain; then every batch of the included
 * reports is checked as `verifyUsageBatches` does (a batch named by two reports is a duplicate). Excluded reports
 * and batches keep their reason; the period goes on without them.
 */
export async function periodInputs(
  reports: readonly RevealedReport[],
  fetch: (hash: Hex) => Promise<Uint8Array | undefined>,
  expect: { round: bigint; parameterSetId: string; publicBundleHash: Hex; rules: UsageRules; slotCount: number },
): Promise<PeriodInputs> {
  await initKeccak();
  const excludedReports: ExcludedReport[] = [];
  const includedReports: number[] = [];
  const candidates: { commitment: UsageBatchCommitment; bytes: Uint8Array | undefined }[] = [];
  for (const [index, revealed] of reports.entries()) {
    const exclude = (reason: ReportProblem, details: string) =>
      excludedReports.push({ index, hash: revealed.hash, reason, details });
    const bytes = await fetch(revealed.hash);
    if (!bytes) {
      exclude("blob-missing", `no stored report ${revealed.hash}`);
      continue;
    }
    const actual = keccak256Sync(bytes);
    if (!sameHash(actual, revealed.hash)) {
      exclude("hash-mismatch", `stored bytes hash to ${actual}`);
      continue;
    }
    let report: UsageReport;
    try {
      report = decodeUsageReport(bytes);
    } catch (error) {
      exclude("malformed", (error as Error).message.split("\n")[0]);
      continue;
    }
    const terms = termsMismatch(report, expect);
    if (terms) {
      exclude("wrong-terms", terms);
      continue;
    }
    if (report.generations !== revealed.committedGenerations) {
      exclude("count-mismatch", `report states ${report.generations}, chain has ${revealed.committedGenerations}`);
      continue;
    }
    includedReports.push(index);
    for (const batch of report.batches) {
      candidates.push({ commitment: batch, bytes: await fetch(batch.hash) });
    }
  }
  const verified = await verifyUsageBatches(candidates, {
    parameterSetId: expect.parameterSetId,
    publicBundleHash: expect.publicBundleHash,
    contributors: expect.rules.contributors,
    slotCount: expect.slotCount,
  });
  return { ...verified, excludedReports, includedReports };
}

function termsMismatch(
  report: UsageReport,
  expect: { round: bigint; parameterSetId: string; publicBundleHash: Hex; rules: UsageRules },
): string | undefined {
  if (report.round !== expect.round.toString()) return `round ${report.round}, expected ${expect.round}`;
  if (report.parameterSet !== expect.parameterSetId) return `parameter set ${report.parameterSet}`;
  if (!sameHash(report.publicBundleHash, expect.publicBundleHash)) return `bundle ${report.publicBundleHash}`;
  if (report.contributors !== expect.rules.contributors) {
    return `${report.contributors} contributors, program has ${expect.rules.contributors}`;
  }
  if (report.generationCap !== expect.rules.generationCap) {
    return `cap ${report.generationCap}, program has ${expect.rules.generationCap}`;
  }
  return undefined;
}
