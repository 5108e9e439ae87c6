// The auditor of a usage-metered round (docs/usage.md): everything re-derived from the chain and the store — the
// period's inputs and reason bytes, the totals recomputed from the included batches (their keccak256 must be the
// published aggregate), the period record, and the custodian's anchored release. The reports are a round's inputs:
// the store serves them only to the program's coprocessor, custodians and named input auditors (input-access.ts).
// An auditor refused them checks the period record and the release against the chain's reason bytes and reports
// `exclusions` and `totals-commitment` as restricted (not failed, not verified).
import type { AuditCheck, AuditVerdict } from "@ciphershare/protocol/audit/verdict";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import { bytesToHex, sameHash } from "@ciphershare/protocol/hex";
import { decodeUsagePeriodRecord, decodeUsageReleaseRecord } from "@ciphershare/protocol/records/usage-period";
import type { ChainReader } from "../chain/clients";
import { readRound } from "../chain/contracts";
import { readCommitments, readReasons } from "../chain/events";
import { BlobAccessDeniedError } from "../storage/blob-access";
import type { BlobStore } from "../storage/blob-store";
import { aggregateUsage } from "../usage/aggregate";
import type { UsageRules } from "../usage/rules";
import type { FhevmClient } from "../chain/fhevmClient";
import { readUsageTerms } from "../chain/usage-terms";
import { INPUTS_RESTRICTED, settlementCheck } from "./auditor";
import { loadProgramBundle, readUsagePeriod, type UsagePeriod } from "./usage-inputs";

export async function auditUsagePeriod(
  deployment: Deployment,
  reader: ChainReader,
  store: BlobStore,
  roundId: bigint,
  given: UsageRules | undefined,
  fhevm?: FhevmClient,
): Promise<AuditVerdict> {
  const checks: AuditCheck[] = [];
  const check = (name: string, passed: boolean, detail: string) => checks.push({ name, passed, detail });
  const restricted = (name: string, detail: string) =>
    checks.push({ name, passed: true, restricted: true, detail: `not re-verified (${INPUTS_RESTRICTED}): ${detail}` });
  const verdict = () => ({ round: Number(roundId), passed: checks.every((c) => c.passed), checks });

  let period: UsagePeriod | undefined;
  try {
    period = await readUsagePeriod(deployment, reader, store, roundId, given);
  } catch (error) {
    if (!(error instanceof BlobAccessDeniedError)) throw error;
  }
  const round = period?.round ?? (await readRound(deployment, reader, roundId));
  const published = round.publication > 0 && BigInt(round.aggregateHash) !== 0n;
  check("results-published", published, published ? `publication ${round.publication}` : "no standing publication");
  if (!published) return verdict();

  const commitments = period?.commitments ?? (await readCommitments(reader, deployment, roundId));
  const chainReasons = await readReasons(reader, deployment, roundId, round.publication, commitments.length);
  if (period === undefined) restricted("exclusions", `published ${bytesToHex(chainReasons)}`);
  else {
    const sameReasons = bytesToHex(chainReasons) === bytesToHex(period.reasons);
    const excluded = period.excludedReportIndex;
    check(
      "exclusions",
      sameReasons,
      `published ${bytesToHex(chainReasons)}, reproduced ${bytesToHex(period.reasons)}` +
        period.inputs.excludedReports.map((e, k) => `; #${excluded[k]} ${e.reason}: ${e.details}`).join(""),
    );
  }
  // The record must list the included batches; which they are only the reports say (the inputs).
  let recordGenerations: number | undefined;
  if (await store.has(round.scoresHash)) {
    const record = decodeUsagePeriodRecord(await store.get(round.scoresHash));
    recordGenerations = record.generations;
    const detail = `${record.batches.length} batches, ${record.generations} generations, ${record.excludedBatches.length} batches excluded`;
    const totalsMatch = sameHash(record.totals, round.aggregateHash);
    if (period === undefined) {
      if (totalsMatch) restricted("period-record", `${detail}; its totals are the published aggregate`);
      else check("period-record", false, `${detail}; its totals are not the published aggregate`);
    } else {
      const included = period.inputs.included;
      const batchesMatch =
        record.batches.length === included.length &&
        record.batches.every((b, i) => sameHash(b.hash, included[i].hash) && b.generations === included[i].generations);
      check("period-record", totalsMatch && batchesMatch, detail);
    }
  } else check("period-record", false, "the period record is not in the store");

  if (period === undefined) {
    restricted("totals-commitment", "the totals are re-run by the program's custodian from the reports");
  } else {
    await totalsCheck(period, store, period.rules, check);
  }

  const anchored = BigInt(round.releaseHash) !== 0n;
  if (!anchored) check("release-found", false, "no release anchored yet");
  else {
    const release = decodeUsageReleaseRecord(await store.get(round.releaseHash));
    const generations =
      period?.inputs.included.reduce((sum, b) => sum + b.generations, 0) ?? recordGenerations ?? Number.NaN;
    check(
      "release-found",
      sameHash(release.totals, round.aggregateHash) &&
        sameHash(release.period, round.scoresHash) &&
        release.generations === generations,
      `release ${round.releaseHash}: ${release.generations} generations, Σ usage ${release.totalUsage.toFixed(3)}`,
    );
  }
  const terms = period?.terms ?? (await readUsageTerms(deployment, reader, round.programId));
  if (terms !== undefined && fhevm !== undefined) {
    // A program with on-chain terms pays its artists on-chain: the settlement must split exactly the pool.
    const [passed, detail] = await settlementCheck({ deployment, reader, fhevm }, roundId);
    check("shares-sum-to-pool", passed, detail);
  }
  return verdict();
}

/** The totals recomputed from the included reports must be the published aggregate. */
async function totalsCheck(
  period: UsagePeriod,
  store: BlobStore,
  rules: UsageRules,
  check: (name: string, passed: boolean, detail: string) => void,
): Promise<void> {
  const { round } = period;
  const ctx = await CkksContext.create(period.parameterSetId);
  try {
    const bundle = await loadProgramBundle(ctx, store, period.program.publicKeyHash);
    try {
      const { envelope } = await aggregateUsage(ctx, bundle.galoisKeys!, period.inputs.included, {
        publicBundleHash: period.program.publicKeyHash,
        rules,
      });
      const recomputed = await envelopeCommitment(envelope);
      check(
        "totals-commitment",
        sameHash(recomputed, round.aggregateHash),
        `recomputed ${recomputed}, published ${round.aggregateHash}`,
      );
    } finally {
      bundle.dispose();
    }
  } finally {
    ctx.dispose();
  }
}
