// A committee member's part in a usage period of a committee-custodied usage program (docs/usage.md, "Under a
// custodian committee"): the same release as a lone custodian's, split as the committee splits every output. Each
// member recomputes the period's totals from the committed batches (it is a reader of the round's inputs) and refuses
// unless the published totals are exactly their aggregate and the period has the terms' minimum generations; a member
// of the decrypting set publishes its flooded partial decryption of the one output, the totals; anyone holding the
// set's partials (the committee: the store serves them to its members only) combines them, deterministically, into
// the flooded totals and the public release record (Σ usage, not the per-artist totals) the members approve.
import { readFile } from "node:fs/promises";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { usageRulesOf } from "@ciphershare/protocol/chain/usage-terms";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { sameHash, type Address, type Hex } from "@ciphershare/protocol/hex";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { decodeUsagePeriodRecord, type UsageReleaseRecord } from "@ciphershare/protocol/records/usage-period";
import type { ChainReader } from "../chain/clients";
import { KeyCustodian } from "../keys/key-custodian";
import type { BlobStore } from "../storage/blob-store";
import { serializePartialDecryption } from "../threshold/partial-decryption";
import type { OutputRelease } from "../threshold/release-bounds";
import { assertReleasableTotals, usageRelease, UsageReleaseRefusedError } from "../usage/release";
import { combineOutput } from "./committee-release";
import { ChainRoundCommitments } from "./custodian";
import { loadProgramBundle, readUsagePeriod, type UsagePeriod } from "./usage-inputs";
import { usageReleaseOf } from "./usage-custodian";

/** The totals' generation count and flooding bound and range, from the period's public facts. */
function periodRelease(ctx: CkksContext, period: UsagePeriod): { generations: number; release: OutputRelease } {
  const generations = period.inputs.included.reduce((sum, b) => sum + b.generations, 0);
  const ciphertexts = period.inputs.included.reduce((sum, b) => sum + b.envelope.header.chunkCount, 0);
  return { generations, release: usageRelease(ctx, period.rules, { generations, ciphertexts }) };
}

/**
 * Why this member refuses to release usage period `roundId` (empty: it recomputed the published totals): the period
 * record must name the round's published totals, the period must have the terms' minimum generations, and the
 * totals must be exactly the aggregate of the included batches it recomputes (`not-the-recomputed-totals`).
 */
export async function usageRecomputationRefusals(
  deployment: Deployment,
  reader: ChainReader,
  store: BlobStore,
  roundId: bigint,
): Promise<string[]> {
  const period = await readUsagePeriod(deployment, reader, store, roundId, undefined);
  const { round, terms } = period;
  const record = decodeUsagePeriodRecord(await store.get(round.scoresHash));
  if (!sameHash(record.totals, round.aggregateHash)) {
    return [`period-record: names totals ${record.totals}, the round published ${round.aggregateHash}`];
  }
  const ctx = await CkksContext.create(period.parameterSetId);
  const bundle = await loadProgramBundle(ctx, store, period.program.publicKeyHash);
  try {
    await assertReleasableTotals(ctx, bundle.galoisKeys!, {
      rules: period.rules,
      publicBundleHash: period.program.publicKeyHash,
      batches: period.inputs.included,
      committedTotals: round.aggregateHash,
      minimumGenerations: terms === undefined ? 1 : usageRulesOf(terms).minGenerations,
    });
    return [];
  } catch (error) {
    if (error instanceof UsageReleaseRefusedError) return [`${error.reason}: ${error.details ?? error.message}`];
    throw error;
  } finally {
    bundle.dispose();
    ctx.dispose();
  }
}

/**
 * This member's partial decryption of period `roundId`'s totals for the decrypting set `set`, flooded by the
 * period's noise bound, published as a blob; returns `[its hash]` (a usage period has one output). The member's own
 * policy (`ChainRoundCommitments` of the committee) decrypts only a published output of the round, never an input.
 */
export async function publishUsagePartial(
  options: {
    readonly deployment: Deployment;
    readonly reader: ChainReader;
    readonly store: BlobStore;
    readonly committee: Address;
    readonly keystorePath: string;
    readonly passphrase: string;
  },
  roundId: bigint,
  set: readonly number[],
): Promise<Hex[]> {
  const { deployment, reader, store } = options;
  const period = await readUsagePeriod(deployment, reader, store, roundId, undefined);
  const ctx = await CkksContext.create(period.parameterSetId);
  const member = await KeyCustodian.openMember(ctx, await readFile(options.keystorePath, "utf8"), options.passphrase, {
    commitments: new ChainRoundCommitments(deployment, reader, options.committee),
  });
  try {
    const partial = await member.partialDecryptOutput(
      roundId,
      await store.get(period.round.aggregateHash),
      periodRelease(ctx, period).release.errorBound,
      set,
    );
    return [await store.put(serializePartialDecryption(partial))];
  } finally {
    member.dispose();
    ctx.dispose();
  }
}

/** A combined usage period: the flooded totals (in generations, attribution order) and the public release record. */
export interface CombinedUsage {
  readonly totals: number[];
  /** Totals at or below this are flooding noise (8 σ of the released values). */
  readonly resolution: number;
  readonly record: UsageReleaseRecord;
  readonly releaseHash: Hex;
}

/**
 * Combines the set's published partial decryptions of period `roundId`'s totals (`partialHashes[k]`: member k's
 * one share hash) and publishes the release record; deterministic, so every member approves the same hash.
 */
export async function combineUsageRelease(
  deployment: Deployment,
  reader: ChainReader,
  store: BlobStore,
  roundId: bigint,
  partialHashes: readonly Hex[],
): Promise<CombinedUsage> {
  const period = await readUsagePeriod(deployment, reader, store, roundId, undefined);
  const ctx = await CkksContext.create(period.parameterSetId);
  try {
    const { generations, release } = periodRelease(ctx, period);
    const combined = await combineOutput(
      ctx,
      {
        envelope: await store.get(period.round.aggregateHash),
        partials: await Promise.all(partialHashes.map((h) => store.get(h))),
      },
      release,
    );
    const { totals, record, resolution } = usageReleaseOf(period.round, generations, combined);
    const releaseHash = await store.put(encodeJsonRecord(record));
    return { totals, resolution, record, releaseHash };
  } finally {
    ctx.dispose();
  }
}
