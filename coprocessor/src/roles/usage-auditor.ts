// The auditor of a usage-metered round (docs/usage.md): everything re-derived from the chain and the store — the
// period's inputs and reason bytes, the totals recomputed from the included batches (their keccak256 must be the
// published aggregate), the period record, and the custodian's anchored release.
import type { AuditCheck, AuditVerdict } from "@ciphershare/protocol/audit/verdict";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import { bytesToHex, sameHash } from "@ciphershare/protocol/hex";
import { decodeUsagePeriodRecord, decodeUsageReleaseRecord } from "@ciphershare/protocol/records/usage-period";
import type { ChainReader } from "../chain/clients";
import { readReasons } from "../chain/events";
import type { BlobStore } from "../storage/blob-store";
import { aggregateUsage } from "../usage/aggregate";
import type { UsageRules } from "../usage/rules";
import type { FhevmClient } from "../chain/fhevmClient";
import { settlementCheck } from "./auditor";
import { loadProgramBundle, readUsagePeriod } from "./usage-inputs";

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
  const verdict = () => ({ round: Number(roundId), passed: checks.every((c) => c.passed), checks });

  const period = await readUsagePeriod(deployment, reader, store, roundId, given);
  const { round, rules } = period;
  const published = round.publication > 0 && BigInt(round.aggregateHash) !== 0n;
  check("results-published", published, published ? `publication ${round.publication}` : "no standing publication");
  if (!published) return verdict();

  const chainReasons = await readReasons(reader, deployment, roundId, round.publication, period.commitments.length);
  const sameReasons = bytesToHex(chainReasons) === bytesToHex(period.reasons);
  check(
    "exclusions",
    sameReasons,
    `published ${bytesToHex(chainReasons)}, reproduced ${bytesToHex(period.reasons)}` +
      period.inputs.excludedReports
        .map((e, k) => `; #${period.excludedReportIndex[k]} ${e.reason}: ${e.details}`)
        .join(""),
  );

  let recordOk = false;
  let recordDetail = "";
  if (await store.has(round.scoresHash)) {
    const record = decodeUsagePeriodRecord(await store.get(round.scoresHash));
    const batchesMatch =
      record.batches.length === period.inputs.included.length &&
      record.batches.every(
        (b, i) =>
          sameHash(b.hash, period.inputs.included[i].hash) && b.generations === period.inputs.included[i].generations,
      );
    recordOk = sameHash(record.totals, round.aggregateHash) && batchesMatch;
    recordDetail = `${record.batches.length} batches, ${record.generations} generations, ${record.excludedBatches.length} batches excluded`;
  } else recordDetail = "the period record is not in the store";
  check("period-record", recordOk, recordDetail);

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

  const anchored = BigInt(round.releaseHash) !== 0n;
  if (!anchored) check("release-found", false, "no release anchored yet");
  else {
    const release = decodeUsageReleaseRecord(await store.get(round.releaseHash));
    const generations = period.inputs.included.reduce((sum, b) => sum + b.generations, 0);
    check(
      "release-found",
      sameHash(release.totals, round.aggregateHash) &&
        sameHash(release.period, round.scoresHash) &&
        release.generations === generations,
      `release ${round.releaseHash}: ${release.generations} generations, Σ usage ${release.totalUsage.toFixed(3)}`,
    );
  }
  if (period.terms !== undefined && fhevm !== undefined) {
    // A program with on-chain terms pays its artists on-chain: the settlement must split exactly the pool.
    const [passed, detail] = await settlementCheck({ deployment, reader, fhevm }, roundId);
    check("shares-sum-to-pool", passed, detail);
  }
  return verdict();
}
