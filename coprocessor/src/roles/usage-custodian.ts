// The custodian's step of a usage-metered round (docs/usage.md): once the round is Finalized (and the program
// accepted by this custodian), recompute the period from the chain and the store, check the published totals are
// exactly the aggregate of the included batches and that the period is large enough, decrypt the totals through the
// output policy (flooded), publish a release record (Σ usage, not the per-contributor totals) and anchor it.
import { readFile } from "node:fs/promises";
import { RoundPhase, ROUND_PHASE_NAMES } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { decodeUsagePeriodRecord, type UsageReleaseRecord } from "@ciphershare/protocol/records/usage-period";
import { mined, type ChainSigner } from "../chain/clients";
import { contractsFor, contractsToRead, readRound } from "../chain/contracts";
import { KeyCustodian } from "../keys/key-custodian";
import type { PoolShares } from "../payouts/shares";
import type { BlobStore } from "../storage/blob-store";
import { assertReleasableTotals, usageRelease } from "../usage/release";
import { usageRoyaltyShares, type RoyaltyMix } from "../usage/royalties";
import type { UsageRules } from "../usage/rules";
import { ChainRoundCommitments } from "./custodian";
import { loadProgramBundle, readUsagePeriod, UsageRoleError } from "./usage-inputs";

export interface UsageReleaseOptions {
  readonly deployment: Deployment;
  readonly signer: ChainSigner;
  readonly store: BlobStore;
  readonly keystorePath: string;
  readonly passphrase: string;
  readonly rules: UsageRules;
  /** The program's minimum number of generations per period (default 100). */
  readonly minimumGenerations?: number;
}

export interface ReleasedUsage {
  readonly releaseHash: Hex;
  readonly record: UsageReleaseRecord;
  /** Flooded per-contributor totals: the custodian's own knowledge, never published. */
  readonly totals: number[];
  /** Totals at or below this are flooding noise (8 σ of the released values). */
  readonly resolution: number;
}

/** Releases and anchors a Finalized usage round's totals (once: an anchored round is refused). */
export async function releaseUsagePeriod(options: UsageReleaseOptions, roundId: bigint): Promise<ReleasedUsage> {
  const { deployment, signer, store, rules } = options;
  const reader = signer.reader;
  const round = await readRound(deployment, reader, roundId);
  if (round.phase !== RoundPhase.Finalized) {
    throw new UsageRoleError("Only a Finalized round's usage is released.", {
      details: `round ${roundId}, phase ${ROUND_PHASE_NAMES[round.phase]}`,
    });
  }
  if (!(await contractsToRead(deployment, reader).rounds.read.hasAccepted([round.programId, signer.address]))) {
    throw new UsageRoleError("This custodian has not accepted the round's program.", {
      details: `program ${round.programId}, custodian ${signer.address}`,
    });
  }
  const periodBytes = await store.get(round.scoresHash);
  const periodRecord = decodeUsagePeriodRecord(periodBytes);
  if (!sameHash(periodRecord.totals, round.aggregateHash)) {
    throw new UsageRoleError("The period record names other totals than the round's published aggregate.", {
      details: `record ${periodRecord.totals}, chain ${round.aggregateHash}`,
    });
  }
  const period = await readUsagePeriod(deployment, reader, store, roundId, rules);
  const ctx = await CkksContext.create(period.parameterSetId);
  const bundle = await loadProgramBundle(ctx, store, period.program.publicKeyHash);
  const keystore = await readFile(options.keystorePath, "utf8");
  const custodian = await KeyCustodian.open(ctx, keystore, options.passphrase, {
    commitments: new ChainRoundCommitments(deployment, reader, signer.address),
  });
  try {
    const generations = period.inputs.included.reduce((sum, b) => sum + b.generations, 0);
    await assertReleasableTotals(ctx, bundle.galoisKeys!, {
      rules,
      publicBundleHash: period.program.publicKeyHash,
      batches: period.inputs.included,
      committedTotals: round.aggregateHash,
      minimumGenerations: options.minimumGenerations ?? 100,
    });
    const ciphertexts = period.inputs.included.reduce((sum, b) => sum + b.envelope.header.chunkCount, 0);
    const released = await custodian.decryptOutput(
      roundId,
      await store.get(round.aggregateHash),
      usageRelease(ctx, rules, { generations, ciphertexts }),
    );
    const totals = Array.from(released.values, (v) => v * released.valueScale);
    const record: UsageReleaseRecord = {
      kind: "ciphershare.usage-release",
      version: 1,
      round: roundId.toString(),
      period: round.scoresHash,
      totals: round.aggregateHash,
      generations,
      totalUsage: totals.reduce((a, b) => a + b, 0),
      floodingSigma: released.floodingSigma * released.valueScale,
    };
    const releaseHash = await store.put(encodeJsonRecord(record));
    await mined(reader, contractsFor(deployment, signer).rounds.write.anchorRelease([roundId, releaseHash]));
    return { releaseHash, record, totals, resolution: 8 * record.floodingSigma };
  } finally {
    custodian.dispose();
    bundle.dispose();
    ctx.dispose();
  }
}

/** The royalties of a released period: the pool split by usage (or the published mix), largest remainder. */
export function usagePeriodShares(
  pool: bigint,
  released: Pick<ReleasedUsage, "totals" | "resolution">,
  mix: Omit<RoyaltyMix, "resolution"> = { usageWeight: 1 },
  shapley?: readonly number[],
): PoolShares {
  return usageRoyaltyShares(pool, released.totals, { ...mix, resolution: released.resolution }, shapley);
}
