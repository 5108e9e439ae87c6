// The coprocessor's step of a usage-metered round (docs/usage.md): once the round is Closed, check the revealed
// usage reports and their batches, sum the included batches into the one totals ciphertext, publish it and the
// period record, and commit both on-chain with `publishResults` (the totals as the round's aggregate, the period
// record as its second output). It holds no key. Not journaled yet: a crash before the transaction redoes the work.
import { RoundPhase, ROUND_PHASE_NAMES } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { bytesToHex, type Hex } from "@ciphershare/protocol/hex";
import { encodeUsagePeriodRecord, type UsagePeriodRecord } from "@ciphershare/protocol/records/usage-period";
import { inputsHash } from "@ciphershare/protocol/round/inputs";
import { mined, type ChainSigner } from "../chain/clients";
import { contractsFor, readRound } from "../chain/contracts";
import type { BlobStore } from "../storage/blob-store";
import { aggregateUsage } from "../usage/aggregate";
import type { UsageRules } from "../usage/rules";
import { loadProgramBundle, readUsagePeriod, UsageRoleError, type UsagePeriod } from "./usage-inputs";

/** The totals envelope and the period record of a usage round, computed from the chain and the store. */
export async function computeUsagePeriod(
  deployment: Deployment,
  reader: ChainSigner["reader"],
  store: BlobStore,
  roundId: bigint,
  given: UsageRules | undefined,
): Promise<{ period: UsagePeriod; totals: Uint8Array; record: UsagePeriodRecord; recordBytes: Uint8Array }> {
  const period = await readUsagePeriod(deployment, reader, store, roundId, given);
  const { rules } = period;
  const ctx = await CkksContext.create(period.parameterSetId);
  try {
    if (period.inputs.included.length === 0) {
      throw new UsageRoleError("No usage batch survived the checks: nothing to aggregate.", {
        details: `round ${roundId}: ${period.inputs.excludedReports.length} reports and ${period.inputs.excluded.length} batches excluded`,
      });
    }
    const bundle = await loadProgramBundle(ctx, store, period.program.publicKeyHash);
    try {
      const { envelope, generations } = await aggregateUsage(ctx, bundle.galoisKeys!, period.inputs.included, {
        publicBundleHash: period.program.publicKeyHash,
        rules,
      });
      const totalsHash = await store.put(envelope);
      const record: UsagePeriodRecord = {
        kind: "ciphershare.usage-period",
        version: 1,
        round: roundId.toString(),
        contributors: rules.contributors,
        generationCap: rules.generationCap,
        generations,
        totals: totalsHash,
        batches: period.inputs.included.map((b) => ({ hash: b.hash, generations: b.generations })),
        excludedReports: period.inputs.excludedReports.map((e, k) => ({
          index: period.excludedReportIndex[k],
          reason: e.reason,
          details: e.details,
        })),
        excludedBatches: period.inputs.excluded.map((e) => ({ hash: e.hash, reason: e.reason, details: e.details })),
      };
      return { period, totals: envelope, record, recordBytes: encodeUsagePeriodRecord(record) };
    } finally {
      bundle.dispose();
    }
  } finally {
    ctx.dispose();
  }
}

/**
 * Computes the period of a Closed usage round and publishes it: the totals envelope and the period record go to the
 * store, and `publishResults(round, totalsHash, periodHash, inputsHash, reasons)` commits them on-chain.
 */
export async function publishUsagePeriod(
  deployment: Deployment,
  coprocessor: ChainSigner,
  store: BlobStore,
  roundId: bigint,
  rules: UsageRules | undefined,
): Promise<{ totals: Hex; period: Hex; record: UsagePeriodRecord; reasons: Hex }> {
  const { phase } = await readRound(deployment, coprocessor.reader, roundId);
  if (phase !== RoundPhase.Closed) {
    throw new UsageRoleError("The round is not Closed: nothing to publish now.", {
      details: `round ${roundId}, phase ${ROUND_PHASE_NAMES[phase]}`,
    });
  }
  const computed = await computeUsagePeriod(deployment, coprocessor.reader, store, roundId, rules);
  const periodHash = await store.put(computed.recordBytes);
  const reasons = bytesToHex(computed.period.reasons);
  const { rounds } = contractsFor(deployment, coprocessor);
  await mined(
    coprocessor.reader,
    rounds.write.publishResults([
      roundId,
      computed.record.totals,
      periodHash,
      await inputsHash(computed.period.included),
      reasons,
    ]),
  );
  return { totals: computed.record.totals, period: periodHash, record: computed.record, reasons };
}
