// The custodian's step of a usage-metered round (docs/usage.md): once the round is Finalized (and the program
// accepted by this custodian), recompute the period from the chain and the store, check the published totals are
// exactly the aggregate of the included batches and that the period is large enough, decrypt the totals through the
// output policy (flooded), publish a release record (Σ usage, not the per-contributor totals) and anchor it.
import { readFile } from "node:fs/promises";
import { keccak256 } from "viem";
import { SettlementState, SHARES_PER_PROOF } from "@ciphershare/protocol/chain/constants";
import { usageRulesOf, usageTotalUnits, type UsageTermsConfig } from "@ciphershare/protocol/chain/usage-terms";
import type { Address } from "@ciphershare/protocol/hex";
import { RoundPhase, ROUND_PHASE_NAMES } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { decodeUsagePeriodRecord, type UsageReleaseRecord } from "@ciphershare/protocol/records/usage-period";
import { mined, type ChainSigner } from "../chain/clients";
import type { FhevmClient } from "../chain/fhevmClient";
import { contractsFor, contractsToRead, readRound, type RoundState } from "../chain/contracts";
import { KeyCustodian } from "../keys/key-custodian";
import type { PoolShares } from "../payouts/shares";
import type { BlobStore } from "../storage/blob-store";
import { assertReleasableTotals, usageRelease } from "../usage/release";
import { usageRoyaltyShares, type RoyaltyMix } from "../usage/royalties";
import type { UsageRules } from "../usage/rules";
import { ChainRoundCommitments, settlementBatches } from "./custodian";
import { loadProgramBundle, readUsagePeriod, UsageRoleError } from "./usage-inputs";

export interface UsageReleaseOptions {
  readonly deployment: Deployment;
  readonly signer: ChainSigner;
  readonly store: BlobStore;
  readonly keystorePath: string;
  readonly passphrase: string;
  /** For a program without on-chain usage terms; under terms they must agree with them (or be omitted). */
  readonly rules?: UsageRules;
  /** The minimum number of generations per period (default 100) of a program without on-chain terms. */
  readonly minimumGenerations?: number;
}

export interface ReleasedUsage {
  readonly releaseHash: Hex;
  readonly record: UsageReleaseRecord;
  /** Flooded per-contributor totals: the custodian's own knowledge, never published. */
  readonly totals: number[];
  /** Totals at or below this are flooding noise (8 σ of the released values). */
  readonly resolution: number;
  /** The program's on-chain usage terms (undefined for a program without). */
  readonly terms?: UsageTermsConfig;
}

/** Releases and anchors a Finalized usage round's totals (once: an anchored round is refused). */
export async function releaseUsagePeriod(options: UsageReleaseOptions, roundId: bigint): Promise<ReleasedUsage> {
  const { deployment, signer, store } = options;
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
  const period = await readUsagePeriod(deployment, reader, store, roundId, options.rules);
  const { rules, terms } = period;
  const minimumGenerations =
    terms !== undefined ? usageRulesOf(terms).minGenerations : (options.minimumGenerations ?? 100);
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
      minimumGenerations,
    });
    const ciphertexts = period.inputs.included.reduce((sum, b) => sum + b.envelope.header.chunkCount, 0);
    const released = await custodian.decryptOutput(
      roundId,
      await store.get(round.aggregateHash),
      usageRelease(ctx, rules, { generations, ciphertexts }),
    );
    const { totals, record } = usageReleaseOf(round, generations, released);
    const releaseHash = await store.put(encodeJsonRecord(record));
    await mined(reader, contractsFor(deployment, signer).rounds.write.anchorRelease([roundId, releaseHash]));
    return { releaseHash, record, totals, resolution: 8 * record.floodingSigma, terms };
  } finally {
    custodian.dispose();
    bundle.dispose();
    ctx.dispose();
  }
}

/**
 * The released totals (flooded, in generations) and the public release record of a period from its decrypted totals
 * (the lone custodian's, or the committee's combination: the same record either way).
 */
export function usageReleaseOf(
  round: Pick<RoundState, "id" | "scoresHash" | "aggregateHash">,
  generations: number,
  released: { readonly values: Float64Array; readonly valueScale: number; readonly floodingSigma: number },
): { totals: number[]; record: UsageReleaseRecord; resolution: number } {
  const totals = Array.from(released.values, (v) => v * released.valueScale);
  const record: UsageReleaseRecord = {
    kind: "ciphershare.usage-release",
    version: 1,
    round: round.id.toString(),
    period: round.scoresHash,
    totals: round.aggregateHash,
    generations,
    totalUsage: totals.reduce((a, b) => a + b, 0),
    floodingSigma: released.floodingSigma * released.valueScale,
  };
  return { totals, record, resolution: 8 * record.floodingSigma };
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

/**
 * The published mix of a program with on-chain terms: the usage weight is the terms', and below 1 the quality scores
 * must be the file whose keccak256 the terms record (the custodian cannot pick other scores).
 */
export function termsMix(
  terms: UsageTermsConfig,
  scoresFile?: Uint8Array,
): { usageWeight: number; shapley?: number[] } {
  const { usageWeight } = usageRulesOf(terms);
  if (usageWeight === 1) return { usageWeight };
  if (scoresFile === undefined) {
    throw new UsageRoleError("The program mixes usage with quality scores: give the published scores file.", {
      details: `usage weight ${usageWeight}, scores ${terms.qualityScoresHash}`,
    });
  }
  const hash = keccak256(scoresFile);
  if (!sameHash(hash, terms.qualityScoresHash)) {
    throw new UsageRoleError("The quality scores file is not the one the program's terms publish.", {
      details: `file ${hash}, terms ${terms.qualityScoresHash}`,
    });
  }
  const scores: unknown = JSON.parse(new TextDecoder().decode(scoresFile));
  if (!Array.isArray(scores) || scores.length !== terms.artists.length || scores.some((v) => !Number.isFinite(v))) {
    throw new UsageRoleError("The quality scores file must hold one finite score per artist.", {
      details: `expected ${terms.artists.length} numbers`,
    });
  }
  return { usageWeight, shapley: scores as number[] };
}

export interface UsageSettlement {
  readonly pool: bigint;
  /** The artists, in attribution order, and their shares (Σ = pool). */
  readonly artists: readonly Address[];
  readonly shares: readonly bigint[];
}

/**
 * Settles a released usage period on-chain: the funded pool (public) split by the released totals (or the terms'
 * mix), largest remainder, one encrypted share per artist of the program's terms in attribution order (batches of
 * the distributor's size), then `completeSettlement`, after which the unallocated pool publicly decrypts to 0.
 */
export async function settleUsagePeriod(
  options: { readonly deployment: Deployment; readonly signer: ChainSigner; readonly fhevm: FhevmClient },
  roundId: bigint,
  released: Pick<ReleasedUsage, "totals" | "resolution" | "terms">,
  mix: { usageWeight: number; shapley?: number[] } = { usageWeight: 1 },
): Promise<UsageSettlement> {
  const { deployment, signer, fhevm } = options;
  const { terms } = released;
  if (terms === undefined) {
    throw new UsageRoleError("The program has no usage terms on-chain: its artists are not known to the chain.", {
      details: `round ${roundId}`,
    });
  }
  const { distributor } = contractsToRead(deployment, signer.reader);
  if (Number(await distributor.read.settlementState([roundId])) !== SettlementState.Open) {
    throw new UsageRoleError("The round's settlement is already closed.", { details: `round ${roundId}` });
  }
  const poolHandle = await distributor.read.poolOf([roundId]);
  if (BigInt(poolHandle) === 0n) {
    throw new UsageRoleError("The round's pool is not funded yet.", { details: `round ${roundId}` });
  }
  const pool = (await fhevm.publicDecrypt([poolHandle])).clearValues[poolHandle];
  if (typeof pool !== "bigint") throw new UsageRoleError("The pool handle did not decrypt to an amount.");
  const { shares } = usagePeriodShares(pool, released, { usageWeight: mix.usageWeight }, mix.shapley);
  const writer = contractsFor(deployment, signer).distributor;
  for (const [start, end] of settlementBatches(terms.artists.length)) {
    const { handles, proofs } = await encryptedBatch(
      fhevm,
      deployment.distributor,
      signer.address,
      shares.slice(start, end),
    );
    await mined(
      signer.reader,
      writer.write.settle([roundId, terms.artists.slice(start, end) as Address[], handles, proofs]),
    );
  }
  await mined(signer.reader, writer.write.completeSettlement([roundId]));
  return { pool, artists: terms.artists, shares };
}

/** Encrypts `values` for one call to `contract` by `user`: `SHARES_PER_PROOF` values per input proof. */
export async function encryptedBatch(
  fhevm: FhevmClient,
  contract: Address,
  user: Address,
  values: readonly bigint[],
): Promise<{ handles: Hex[]; proofs: Hex[] }> {
  const handles: Hex[] = [];
  const proofs: Hex[] = [];
  for (let first = 0; first < values.length; first += SHARES_PER_PROOF) {
    const encrypted = await fhevm.encryptUint64(contract, user, values.slice(first, first + SHARES_PER_PROOF));
    handles.push(...encrypted.handles);
    proofs.push(encrypted.inputProof);
  }
  return { handles, proofs };
}

/**
 * Seals each artist's released usage total on-chain to that artist alone (`UsageTerms.sealUsageTotals`): an euint64
 * of the flooded total in millionths (`usageTotalUnits`: at or below the resolution, 0), in batches of the
 * settlement's size. Idempotent: artists already sealed (a pass interrupted after some batches) are skipped.
 * Returns how many totals this call sealed.
 */
export async function sealUsageTotals(
  options: { readonly deployment: Deployment; readonly signer: ChainSigner; readonly fhevm: FhevmClient },
  roundId: bigint,
  released: Pick<ReleasedUsage, "totals" | "resolution" | "terms">,
): Promise<number> {
  const { deployment, signer, fhevm } = options;
  const { terms } = released;
  const reader = contractsToRead(deployment, signer.reader).usageTerms;
  if (terms === undefined || reader === undefined || deployment.usageTerms === undefined) {
    throw new UsageRoleError("The program has no usage terms on-chain: its artists' totals cannot be sealed.", {
      details: `round ${roundId}`,
    });
  }
  const pending: number[] = [];
  for (const [i, artist] of terms.artists.entries()) {
    if (BigInt(await reader.read.usageTotalOf([roundId, artist])) === 0n) pending.push(i);
  }
  const writer = contractsFor(deployment, signer).usageTerms!;
  for (const [start, end] of settlementBatches(pending.length)) {
    const batch = pending.slice(start, end);
    const units = batch.map((i) => usageTotalUnits(released.totals[i], released.resolution));
    const { handles, proofs } = await encryptedBatch(fhevm, deployment.usageTerms, signer.address, units);
    await mined(
      signer.reader,
      writer.write.sealUsageTotals([roundId, batch.map((i) => terms.artists[i]) as Address[], handles, proofs]),
    );
  }
  return pending.length;
}
