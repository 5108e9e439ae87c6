// A custodian committee member: one process per member (`ciphershare custodian run --member K`), holding only its own
// Shamir share of the program's CKKS secret key. The dealer's setup ceremony (`custodian keygen --committee`) makes
// the keys, publishes the public bundle, seals each member's share to that member's keystore and wipes the key; the
// network registers the committee with the shares' commitments; each member accepts with its own share's commitment.
//
// For a finalized round of a committee program, a member first recomputes the round's outputs from the committed
// inputs (the auditor's checks) and refuses to take part if they differ from the published ones; otherwise it joins
// the release, and once the decrypting set (the first t to join) is formed, publishes its partial decryption of each
// declared output (blobs, hashes on-chain). When the set's partials are all in, each member combines them — the
// deterministic combination anyone can redo (committee-release.ts) — and approves the release record; the committee
// contract anchors it once all t approved. Settlement: the set's lowest member proposes encrypted shares in batches,
// every other member confirms with its own encryption of the shares it computed itself, and the proposer executes
// once t − 1 confirmations decrypt to true. A proposer that is down costs one turn (`SETTLEMENT_TURN_SECONDS` of chain
// time from the release's anchoring): then the next member in the settlement order proposes and executes in its place.
import { readFile } from "node:fs/promises";
import { encodeFunctionData, getContract, parseEventLogs } from "viem";
import { custodianCommitteeAbi } from "@ciphershare/protocol/chain/abis";
import { RoundPhase, SettlementState } from "@ciphershare/protocol/chain/constants";
import { usageRulesOf, usageTotalUnits, type UsageTermsConfig } from "@ciphershare/protocol/chain/usage-terms";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { getParameterSet } from "@ciphershare/protocol/ckks/params";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { sameAddress, sameHash, type Address, type Hex } from "@ciphershare/protocol/hex";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import { mined, type ChainReader, type ChainSigner } from "../chain/clients";
import { contractsToRead, readProgram, readRound, type ProgramState } from "../chain/contracts";
import { readFinalizedRounds } from "../chain/events";
import { isUsageProgram, readUsageTerms } from "../chain/usage-terms";
import type { FhevmClient } from "../chain/fhevmClient";
import { signerTransactionDriver } from "../chain/transactionDriver";
import { KeyCustodian } from "../keys/key-custodian";
import { writeKeystoreFile, type ScryptParameters } from "../keys/keystore";
import { largestRemainderShares } from "../payouts/shares";
import { runOnChainStep } from "../state/journal";
import type { StateStore } from "../state/store";
import type { BlobStore } from "../storage/blob-store";
import { serializePartialDecryption } from "../threshold/partial-decryption";
import { auditRound } from "./auditor";
import {
  combineRoundRelease,
  fetchRoundPartials,
  readRoundReleaseInputs,
  roundOutputReleases,
} from "./committee-release";
import { roundKeyOptions } from "./computation";
import { ChainRoundCommitments, programRefusals, settlementBatches, type ProgramModelShape } from "./custodian";
import { combineUsageRelease, publishUsagePartial, usageRecomputationRefusals } from "./committee-usage";
import { encryptedBatch, termsMix, usagePeriodShares } from "./usage-custodian";
import { publishBundleParts } from "../storage/key-bundle";

export class CommitteeError extends CipherShareError {
  override name = "CommitteeError";
}

/** Contributors per settlement proposal (`CustodianCommittee.SHARES_PER_PROPOSAL`). */
export const SHARES_PER_PROPOSAL = 54;

/** The audit checks that make a member refuse: the published outputs are not what the committed inputs give. */
export const RECOMPUTATION_CHECKS = [
  "inputs-hash",
  "input-blobs",
  "exclusions",
  "aggregate-commitment",
  "scores-commitment",
] as const;

/** The deployment's committee contract address; a deployment made before the committee has none. */
export function committeeAddress(deployment: Deployment): Address {
  if (deployment.committee === undefined) {
    throw new CommitteeError("This deployment has no custodian committee contract (deploy again).");
  }
  return deployment.committee;
}

/** The committee contract for a signing member (`.read…`, `.write…`). */
function committeeFor(deployment: Deployment, signer: ChainSigner) {
  return getContract({
    address: committeeAddress(deployment),
    abi: custodianCommitteeAbi,
    client: { public: signer.reader, wallet: signer.wallet },
  });
}

/** The committee contract for reading. */
export function committeeToRead(deployment: Deployment, reader: ChainReader) {
  return getContract({ address: committeeAddress(deployment), abi: custodianCommitteeAbi, client: { public: reader } });
}

// ------------------------------------------------------------------------------------------ setup ceremony

/** What the dealer's ceremony published and handed out. */
export interface CommitteeSetup {
  readonly publicBundleHash: Hex;
  readonly bundleBytes: number;
  /** Bytes of the bundle's part contributors download (the encryption keys). */
  readonly contributorBundleBytes: number;
  /** keccak256 of each member's serialized share, by member (1…n): what the network registers on-chain. */
  readonly shareCommitments: readonly Hex[];
}

/**
 * The dealer's setup ceremony: generates the epoch's keys for the program's model shape, publishes the public
 * bundle, seals member k's Shamir share under `passphrases[k − 1]` into `keystorePaths[k − 1]` (mode 0600) and wipes
 * the key and the shares (KeyCustodian.dealCommitteeKeys). The dealer holds the whole key while this runs.
 */
export async function dealCommittee(
  store: BlobStore,
  keystorePaths: readonly string[],
  passphrases: readonly string[],
  threshold: number,
  model: ProgramModelShape,
  scrypt?: ScryptParameters,
): Promise<CommitteeSetup> {
  if (keystorePaths.length !== passphrases.length) {
    throw new CommitteeError("Give one keystore path per member passphrase.", {
      details: `${keystorePaths.length} paths, ${passphrases.length} passphrases`,
    });
  }
  const ctx = await CkksContext.create(getParameterSet(model.parameterSetId ?? ROUND_PARAMETER_SET_ID));
  try {
    const keyOptions = roundKeyOptions(ctx.slotCount, model.dimension, model.classes);
    const keys = await KeyCustodian.dealCommitteeKeys(ctx, passphrases, threshold, keyOptions, scrypt);
    await publishBundleParts(store, keys.parts);
    for (const [i, keystore] of keys.keystores.entries()) await writeKeystoreFile(keystorePaths[i], keystore);
    return {
      publicBundleHash: keys.publicBundleHash,
      bundleBytes: keys.bundleBytes.length,
      contributorBundleBytes: keys.parts.encryption.length,
      shareCommitments: keys.shareCommitments,
    };
  } finally {
    ctx.dispose();
  }
}

/** The network registers program `programId`'s committee (the program must name the committee contract). */
export async function registerCommittee(
  deployment: Deployment,
  network: ChainSigner,
  programId: bigint,
  members: readonly Address[],
  threshold: number,
  shareCommitments: readonly Hex[],
): Promise<void> {
  const committee = committeeFor(deployment, network);
  await mined(
    network.reader,
    committee.write.registerCommittee([programId, [...members], threshold, [...shareCommitments]]),
  );
}

// ------------------------------------------------------------------------------------------------ acceptance

/** The unencrypted part of a member's keystore: its place in the committee and its share's commitment. */
export interface MemberKeystoreInfo {
  readonly parameterSetId: string;
  readonly publicBundleHash: Hex;
  readonly threshold: number;
  readonly members: number;
  readonly member: number;
  readonly shareCommitment: Hex;
}

/** Reads a share keystore's metadata (authenticated when the keystore is opened; here only read). */
export function memberKeystoreInfo(keystoreText: string): MemberKeystoreInfo {
  const file = JSON.parse(keystoreText) as { kind?: string; metadata?: Partial<MemberKeystoreInfo> };
  const m = file.metadata;
  if (
    file.kind !== "ciphershare-ckks-key-share" ||
    m === undefined ||
    typeof m.parameterSetId !== "string" ||
    typeof m.publicBundleHash !== "string" ||
    typeof m.shareCommitment !== "string" ||
    ![m.threshold, m.members, m.member].every(Number.isSafeInteger)
  ) {
    throw new CommitteeError("The keystore is not a committee member's key-share keystore.");
  }
  return m as MemberKeystoreInfo;
}

/** The committee of a program as the contract records it. */
export interface CommitteeState {
  readonly members: readonly Address[];
  readonly threshold: number;
  readonly shareCommitments: readonly Hex[];
  readonly active: boolean;
}

export async function readCommittee(
  deployment: Deployment,
  reader: ChainReader,
  programId: bigint,
): Promise<CommitteeState> {
  const committee = committeeToRead(deployment, reader);
  const [state, members, shareCommitments] = await Promise.all([
    committee.read.committeeOf([programId]),
    committee.read.membersOf([programId]),
    committee.read.shareCommitmentsOf([programId]),
  ]);
  return { members, threshold: state.threshold, shareCommitments, active: state.active };
}

/**
 * Why member `me` (holding the share `info`) refuses program `program`: the lone custodian's policy with the
 * committee contract as the custodian, plus the committee must be the one its share was dealt for.
 */
export function memberRefusals(
  program: ProgramState,
  committee: CommitteeState,
  contract: Address,
  me: Address,
  info: MemberKeystoreInfo,
): string[] {
  const refusals = programRefusals(program, contract, info.publicBundleHash);
  const index = committee.members.findIndex((m) => sameAddress(m, me));
  if (index < 0) return [...refusals, `${me} is not a member of its committee`];
  if (index + 1 !== info.member)
    refusals.push(`it makes this account member ${index + 1}, the share is member ${info.member}'s`);
  if (committee.members.length !== info.members || committee.threshold !== info.threshold) {
    refusals.push(
      `its committee is ${committee.threshold}-of-${committee.members.length}, the share is for ${info.threshold}-of-${info.members}`,
    );
  }
  if (!sameHash(committee.shareCommitments[index], info.shareCommitment)) {
    refusals.push(
      `it records the share commitment ${committee.shareCommitments[index]}, this share's is ${info.shareCommitment}`,
    );
  }
  return refusals;
}

/** Member `member` accepts program `programId` with its share, unless its policy refuses (`force` overrules). */
export async function acceptCommitteeProgram(
  deployment: Deployment,
  member: ChainSigner,
  programId: bigint,
  keystoreText: string,
  options: { force?: boolean } = {},
): Promise<{ outcome: "accepted" | "already-accepted"; overruled: string[] }> {
  const info = memberKeystoreInfo(keystoreText);
  const program = await readProgram(deployment, member.reader, programId);
  const committee = await readCommittee(deployment, member.reader, programId);
  const refusals = memberRefusals(program, committee, committeeAddress(deployment), member.address, info);
  if (refusals.length > 0 && options.force !== true) {
    throw new CommitteeError("The member's policy refuses this program.", {
      details: `program ${programId}: ${refusals.join("; ")}`,
    });
  }
  const contract = committeeFor(deployment, member);
  if (committee.active) return { outcome: "already-accepted", overruled: refusals };
  await mined(member.reader, contract.write.acceptProgramShare([programId, info.shareCommitment]));
  return { outcome: "accepted", overruled: refusals };
}

// ------------------------------------------------------------------------------------------- serving rounds

export interface MemberRoleOptions {
  readonly deployment: Deployment;
  readonly signer: ChainSigner;
  readonly state: StateStore;
  readonly store: BlobStore;
  readonly storeForUri: (uri: string) => BlobStore;
  readonly fhevm: FhevmClient;
  readonly keystorePath: string;
  readonly passphrase: string;
  /**
   * Why this member refuses to release the round (empty: it found the outputs as published). Default: the auditor's
   * recomputation checks (`RECOMPUTATION_CHECKS`) from the committed inputs.
   */
  readonly verify?: (roundId: bigint) => Promise<string[]>;
  readonly log?: (line: string) => void;
}

/** Where a round stands for a member after `serveRoundAsMember`. */
export type MemberOutcome = "not-served" | "refused" | "waiting" | "released" | "settled";

/** Recomputes the round's outputs from its committed inputs; returns the failed checks (empty: as published). */
export async function recomputationRefusals(options: MemberRoleOptions, roundId: bigint): Promise<string[]> {
  const verdict = await auditRound(
    {
      deployment: options.deployment,
      reader: options.signer.reader,
      store: options.store,
      storeForUri: options.storeForUri,
      fhevm: options.fhevm,
    },
    roundId,
  );
  const checks: readonly string[] = RECOMPUTATION_CHECKS;
  // A check it could not make (the store refused it the inputs) is a refusal too: a member releases only what it
  // recomputed.
  return verdict.checks
    .filter((c) => checks.includes(c.name) && (!c.passed || c.restricted === true))
    .map((c) => `${c.name}: ${c.detail}`);
}

/** Finalized rounds of committee programs this account is a member of, oldest first, not yet finished by it. */
export async function memberRounds(options: Pick<MemberRoleOptions, "deployment" | "signer" | "state">) {
  const { deployment, signer, state } = options;
  const committee = committeeToRead(deployment, signer.reader);
  const ids: bigint[] = [];
  for (const id of await readFinalizedRounds(signer.reader, deployment)) {
    const done = state.getValue(NAMESPACE, `round:${id}:done`);
    if (done !== undefined) continue;
    if (await committee.read.isRoundMember([id, signer.address])) ids.push(id);
  }
  return ids;
}

const NAMESPACE = "committee-member";

/**
 * One step further on a finalized round of a committee program; call again until it returns "settled" (or
 * "refused"). Each on-chain step is journaled, so a restarted member resumes where it stopped.
 */
export async function serveRoundAsMember(options: MemberRoleOptions, roundId: bigint): Promise<MemberOutcome> {
  const { deployment, signer, state } = options;
  const reader = signer.reader;
  const round = await readRound(deployment, reader, roundId);
  if (round.phase !== RoundPhase.Finalized) return "not-served";
  const committee = committeeFor(deployment, signer);
  const number = Number(await committee.read.memberNumberOf([round.programId, signer.address]));
  if (number === 0) return "not-served";
  const { threshold } = await committee.read.committeeOf([round.programId]);
  // A usage period releases one output, its totals, recomputed from the committed batches (committee-usage.ts).
  const usage = await isUsageProgram(deployment, reader, round);
  const ofUsage = usage ? usageSteps(options) : undefined;
  const key = (what: string) => `round:${roundId}:${what}`;
  const step = (name: string) => ({ round: Number(roundId), step: `committee-${name}` });
  const send = (name: string, functionName: CommitteeWrite, args: readonly unknown[]) =>
    runOnChainStep(
      state,
      step(name),
      signerTransactionDriver(signer, {
        to: committeeAddress(deployment),
        data: encodeFunctionData({ abi: custodianCommitteeAbi, functionName, args } as never),
      }),
    );

  if (BigInt(round.releaseHash) === 0n) {
    // 1. Policy: only outputs that the committed inputs give, only after the dispute window (Finalized).
    if (state.getValue(NAMESPACE, key("verified")) === undefined) {
      const recompute = ofUsage?.verify ?? ((id: bigint) => recomputationRefusals(options, id));
      const refusals = await (options.verify ?? recompute)(roundId);
      if (refusals.length > 0) {
        state.setValue(NAMESPACE, key("done"), "refused");
        options.log?.(`round ${roundId}: refusing to release: ${refusals.join("; ")}`);
        return "refused";
      }
      state.setValue(NAMESPACE, key("verified"), "outputs recomputed as published");
    }
    const bit = 1 << number;
    let release = await committee.read.releaseOf([roundId]);
    // A set dissolved for a silent member starts again: its steps are journaled per attempt.
    const attempt = (name: string) => (release.attempt === 0 ? name : `${name}-${release.attempt}`);
    if ((release.silent & bit) !== 0) {
      // This member was dropped as silent (it was down past the deadline): the others release; it settles after.
      return "waiting";
    }
    // 2. Join; the first t to join form the decrypting set.
    if ((release.joined & bit) === 0) {
      if (release.joinedCount >= threshold) {
        // Outside the set: stand in for a silent member of it once its deadline passed.
        if (await dropSilentSet(options, roundId, release, threshold)) return "waiting";
        if (
          release.submittedCount >= threshold &&
          (release.approved & bit) === 0 &&
          (await pastShareDeadline(options, release))
        ) {
          const set = (await committee.read.decryptingSetOf([roundId])).map(Number);
          const late = set.filter((m) => (release.approved & (1 << m)) === 0);
          const releaseHash = await (ofUsage?.combine ?? combineAndRecord)(options, roundId, set);
          await send(attempt("approve"), "approveRelease", [roundId, releaseHash]);
          options.log?.(
            `round ${roundId}: member${late.length === 1 ? "" : "s"} ${late.join(", ")} of the set published ${late.length === 1 ? "its" : "their"} shares but did not approve within the deadline (silent); member ${number} combined the set's shares and approved release ${releaseHash.slice(0, 10)}… in ${late.length === 1 ? "its" : "their"} place`,
          );
        }
        return BigInt((await readRound(deployment, reader, roundId)).releaseHash) === 0n ? "waiting" : "released";
      }
      try {
        await send(attempt("join"), "joinRelease", [roundId]);
      } catch (error) {
        // Another member's join filled the set first (members verify at the same pace): this one waits outside it.
        const now = await committee.read.releaseOf([roundId]);
        if ((now.joined & bit) === 0 && now.joinedCount >= threshold) return "waiting";
        throw error;
      }
      options.log?.(`round ${roundId}: member ${number} joined the release`);
      release = await committee.read.releaseOf([roundId]);
    }
    if (release.joinedCount < threshold) return "waiting";
    const set = (await committee.read.decryptingSetOf([roundId])).map(Number);
    // 3. Partial decryptions of both declared outputs for the set.
    if ((release.submitted & bit) === 0) {
      const hashes = await (ofUsage?.publish ?? publishPartials)(options, roundId, set);
      await send(attempt("shares"), "submitDecryptionShares", [roundId, hashes]);
      options.log?.(`round ${roundId}: member ${number} published its partial decryptions for set [${set.join(", ")}]`);
      release = await committee.read.releaseOf([roundId]);
    }
    if (release.submittedCount < threshold) {
      await dropSilentSet(options, roundId, release, threshold);
      return "waiting";
    }
    // 4. Combine the set's partials (anyone could) and approve the record.
    if ((release.approved & bit) === 0) {
      const releaseHash = await (ofUsage?.combine ?? combineAndRecord)(options, roundId, set);
      await send(attempt("approve"), "approveRelease", [roundId, releaseHash]);
      options.log?.(`round ${roundId}: member ${number} approved release ${releaseHash.slice(0, 10)}…`);
    }
    if (BigInt((await readRound(deployment, reader, roundId)).releaseHash) === 0n) return "waiting";
  }
  return settleAsMember(options, roundId, number, threshold, ofUsage);
}

/** The steps of a member that differ for a usage period: recomputation, its one partial, the combination. */
interface UsageSteps {
  readonly verify: (roundId: bigint) => Promise<string[]>;
  readonly publish: (options: MemberRoleOptions, roundId: bigint, set: readonly number[]) => Promise<Hex[]>;
  readonly combine: (options: MemberRoleOptions, roundId: bigint, set: readonly number[]) => Promise<Hex>;
}

function usageSteps(options: MemberRoleOptions): UsageSteps {
  const { deployment, signer, store } = options;
  return {
    verify: (roundId) => usageRecomputationRefusals(deployment, signer.reader, store, roundId),
    publish: (o, roundId, set) =>
      publishUsagePartial(
        {
          deployment,
          reader: signer.reader,
          store,
          committee: committeeAddress(deployment),
          keystorePath: o.keystorePath,
          passphrase: o.passphrase,
        },
        roundId,
        set,
      ),
    combine: combineUsageAndRecord,
  };
}

/**
 * Combines the set's partials of a usage period's totals and keeps the flooded totals in this member's state (they
 * are the committee's knowledge, never published); returns the public release record's hash.
 */
async function combineUsageAndRecord(options: MemberRoleOptions, roundId: bigint, set: readonly number[]) {
  const { deployment, signer, store, state } = options;
  const committee = committeeToRead(deployment, signer.reader);
  const hashes: Hex[] = [];
  for (const member of set) hashes.push((await committee.read.decryptionSharesOf([roundId, member]))[0]);
  const combined = await combineUsageRelease(deployment, signer.reader, store, roundId, hashes);
  state.setValue(
    NAMESPACE,
    `round:${roundId}:usage-totals`,
    JSON.stringify({ totals: combined.totals, resolution: combined.resolution }),
  );
  state.setValue(NAMESPACE, `round:${roundId}:release`, combined.releaseHash);
  return combined.releaseHash;
}

/** This member's flooded totals of usage period `roundId` (combined when it approved, or now). */
async function usageTotalsOf(
  options: MemberRoleOptions,
  roundId: bigint,
  set: readonly number[],
  anchored: Hex,
): Promise<{ totals: number[]; resolution: number }> {
  const key = `round:${roundId}:usage-totals`;
  if (options.state.getValue(NAMESPACE, key) === undefined) {
    const hash = await combineUsageAndRecord(options, roundId, set);
    if (!sameHash(hash, anchored)) {
      throw new CommitteeError("The anchored release is not what the set's published partials combine to.", {
        details: `round ${roundId}: anchored ${anchored}, combined ${hash}`,
      });
    }
  }
  return JSON.parse(options.state.getValue(NAMESPACE, key)!) as { totals: number[]; resolution: number };
}

/** The chain's time (the latest block's timestamp). */
async function chainNow(reader: ChainReader): Promise<bigint> {
  return (await reader.getBlock()).timestamp;
}

/** The committee contract's share deadline (`SHARE_DEADLINE`, seconds after the set formed). */
async function shareDeadlineSeconds(options: Pick<MemberRoleOptions, "deployment" | "signer">): Promise<bigint> {
  return BigInt(await committeeToRead(options.deployment, options.signer.reader).read.SHARE_DEADLINE());
}

type ReleaseView = Awaited<ReturnType<ReturnType<typeof committeeToRead>["read"]["releaseOf"]>>;

/** Whether the set formed more than `SHARE_DEADLINE` ago (by chain time). */
async function pastShareDeadline(options: MemberRoleOptions, release: ReleaseView): Promise<boolean> {
  if (release.formedAt === 0n) return false;
  const deadline = release.formedAt + (await shareDeadlineSeconds(options));
  return (await chainNow(options.signer.reader)) >= deadline;
}

/**
 * Stops waiting for a silent member: when the round's decrypting set is still missing shares past its deadline,
 * dissolves it on-chain (`dropSilentMembers`: the silent members are barred, the others form a new set) and says
 * who was silent. Returns whether the set was dissolved (by this member or, in a race, another).
 */
async function dropSilentSet(
  options: MemberRoleOptions,
  roundId: bigint,
  release: ReleaseView,
  threshold: number,
): Promise<boolean> {
  if (release.joinedCount < threshold || release.submittedCount >= threshold) return false;
  if (!(await pastShareDeadline(options, release))) return false;
  const silent = bitNumbers(release.joined & ~release.submitted);
  const committee = committeeFor(options.deployment, options.signer);
  try {
    await mined(options.signer.reader, committee.write.dropSilentMembers([roundId]));
  } catch (error) {
    const now = await committee.read.releaseOf([roundId]);
    if (now.attempt === release.attempt) throw error;
  }
  options.log?.(
    `round ${roundId}: member${silent.length === 1 ? "" : "s"} ${silent.join(", ")} joined the decrypting set but published no partial decryption within ${await shareDeadlineSeconds(options)} s (silent): dropped, the others form a new set without ${silent.length === 1 ? "it" : "them"}`,
  );
  return true;
}

/** The member numbers whose bits are set in a committee bitmap, ascending. */
export function bitNumbers(bitmap: number): number[] {
  const numbers: number[] = [];
  for (let k = 1; k < 32; k++) if ((bitmap & (1 << k)) !== 0) numbers.push(k);
  return numbers;
}

/** Who took part in round `roundId`'s release and who was dropped from it as silent (member numbers). */
export interface RoundReleaseMembers {
  /** The decrypting set whose partial decryptions released the round (or would, once complete). */
  readonly decryptingSet: readonly number[];
  /** Members dropped from a decrypting set for publishing no shares before its deadline. */
  readonly silent: readonly number[];
  readonly threshold: number;
  readonly members: number;
}

/** Reads who released round `roundId` of a committee program (and who went silent), from the committee contract. */
export async function roundReleaseMembers(
  deployment: Deployment,
  reader: ChainReader,
  roundId: bigint,
): Promise<RoundReleaseMembers> {
  const committee = committeeToRead(deployment, reader);
  const round = await readRound(deployment, reader, roundId);
  const [release, set, state] = await Promise.all([
    committee.read.releaseOf([roundId]),
    committee.read.decryptingSetOf([roundId]),
    committee.read.committeeOf([round.programId]),
  ]);
  return {
    decryptingSet: set.map(Number),
    silent: bitNumbers(release.silent),
    threshold: state.threshold,
    members: state.memberCount,
  };
}

type CommitteeWrite =
  | "joinRelease"
  | "submitDecryptionShares"
  | "approveRelease"
  | "proposeSettlement"
  | "proposeUsageSeal"
  | "confirmSettlement"
  | "executeSettlement"
  | "completeSettlement";

/** This member's partial decryptions of [aggregate, scores] for the set, published as blobs; returns their hashes. */
async function publishPartials(options: MemberRoleOptions, roundId: bigint, set: readonly number[]): Promise<Hex[]> {
  const { deployment, signer, store } = options;
  const inputs = await readRoundReleaseInputs(deployment, signer.reader, store, roundId);
  const ctx = await CkksContext.create(inputs.config.parameterSet);
  const policy = new ChainRoundCommitments(deployment, signer.reader, committeeAddress(deployment));
  const member = await KeyCustodian.openMember(ctx, await readFile(options.keystorePath, "utf8"), options.passphrase, {
    commitments: policy,
  });
  try {
    const releases = roundOutputReleases(ctx, inputs);
    const hashes: Hex[] = [];
    for (const [i, envelopeHash] of [inputs.round.aggregateHash, inputs.round.scoresHash].entries()) {
      const partial = await member.partialDecryptOutput(
        roundId,
        await store.get(envelopeHash),
        releases[i].errorBound,
        set,
      );
      hashes.push(await store.put(serializePartialDecryption(partial)));
    }
    return hashes;
  } finally {
    member.dispose();
    ctx.dispose();
  }
}

/**
 * Combines the set's published partials into the release record (published) and keeps φ; returns the record's hash.
 * Idempotent: the combination is deterministic.
 */
async function combineAndRecord(options: MemberRoleOptions, roundId: bigint, set: readonly number[]): Promise<Hex> {
  const { deployment, signer, store, state } = options;
  const committee = committeeToRead(deployment, signer.reader);
  const inputs = await readRoundReleaseInputs(deployment, signer.reader, store, roundId);
  const shareHashes: Hex[][] = [];
  for (const member of set) shareHashes.push([...(await committee.read.decryptionSharesOf([roundId, member]))]);
  const ctx = await CkksContext.create(inputs.config.parameterSet);
  try {
    const outputs = await fetchRoundPartials(store, inputs.round, shareHashes);
    const { record, phi } = await combineRoundRelease(ctx, store, inputs, outputs);
    const hash = await store.put(encodeJsonRecord(record));
    state.recordScores(
      Number(roundId),
      record.contributors.map((contributor, i) => ({ contributor, phi: phi[i] })),
    );
    state.setValue(NAMESPACE, `round:${roundId}:release`, hash);
    return hash;
  } finally {
    ctx.dispose();
  }
}

/**
 * Settlement of an anchored round: every member computes the shares itself from the anchored release (combining the
 * set's partials if it was not in the set); the set's lowest member proposes each batch and executes it once t − 1
 * others confirmed it under encryption; every other member confirms the proposals whose contributors are its batch.
 * Each turn of `SETTLEMENT_TURN_SECONDS` after the anchoring, one more member in the settlement order (the set, then the
 * others) acts as proposer: it proposes a batch nobody proposed, executes confirmed proposals and completes. A usage
 * period first seals each artist's own total on the usage terms the same way (proposals of the totals in millionths),
 * and its payees are the terms' artists, paid by the released totals (or the terms' mix).
 */
async function settleAsMember(
  options: MemberRoleOptions,
  roundId: bigint,
  number: number,
  threshold: number,
  ofUsage: UsageSteps | undefined,
): Promise<MemberOutcome> {
  const { deployment, signer, state, fhevm } = options;
  const reader = signer.reader;
  const round = await readRound(deployment, reader, roundId);
  const { distributor } = contractsToRead(deployment, reader);
  const committee = committeeFor(deployment, signer);
  const set = (await committee.read.decryptingSetOf([roundId])).map(Number);
  const members = (await committee.read.membersOf([round.programId])).length;
  const order = settlementOrder(set, members);
  const turns = await settlementTurns(options, roundId, order);
  const pass = { roundId, number, threshold, order, acting: turns.acting };

  let usage: { totals: number[]; resolution: number; terms: UsageTermsConfig } | undefined;
  let sealed = true;
  if (ofUsage !== undefined) {
    const terms = await readUsageTerms(deployment, reader, round.programId);
    if (terms === undefined)
      throw new CommitteeError("The usage program has no terms.", { details: `round ${roundId}` });
    usage = { ...(await usageTotalsOf(options, roundId, set, round.releaseHash)), terms };
    const released = usage;
    const units = terms.artists.map((_, i) => usageTotalUnits(released.totals[i], released.resolution));
    await proposalPass(options, pass, "seal", terms.artists, units);
    const { usageTerms } = contractsToRead(deployment, reader);
    sealed = Number(await usageTerms!.read.sealedTotalCount([roundId])) === terms.artists.length;
  }
  const closed = async () => {
    if (Number(await distributor.read.settlementState([roundId])) === SettlementState.Open || !sealed) return false;
    state.setValue(NAMESPACE, `round:${roundId}:done`, "settled");
    return true;
  };
  if (await closed()) return "settled";
  if (Number(await distributor.read.settlementState([roundId])) !== SettlementState.Open) return "released";
  const poolHandle = await distributor.read.poolOf([roundId]);
  if (BigInt(poolHandle) === 0n) return "released";
  const pool = (await fhevm.publicDecrypt([poolHandle])).clearValues[poolHandle];
  if (typeof pool !== "bigint") throw new CommitteeError("The pool handle did not decrypt to an amount.");
  let contributors: Address[];
  let shares: bigint[];
  if (usage !== undefined) {
    const { terms } = usage;
    const scoresFile =
      usageRulesOf(terms).usageWeight < 1 ? await options.store.get(terms.qualityScoresHash) : undefined;
    const mix = termsMix(terms, scoresFile);
    shares = usagePeriodShares(pool, usage, { usageWeight: mix.usageWeight }, mix.shapley).shares;
    contributors = [...terms.artists];
  } else {
    if (state.scoresOf(Number(roundId)) === undefined) {
      const hash = await combineAndRecord(options, roundId, set);
      if (!sameHash(hash, round.releaseHash)) {
        throw new CommitteeError("The anchored release is not what the set's published partials combine to.", {
          details: `round ${roundId}: anchored ${round.releaseHash}, combined ${hash}`,
        });
      }
    }
    const scores = state.scoresOf(Number(roundId))!;
    shares = largestRemainderShares(
      pool,
      scores.map((s) => s.phi),
    ).shares;
    contributors = scores.map((s) => s.contributor as Address);
  }
  await proposalPass(options, pass, "settle", contributors, shares);
  const settled = Number(await distributor.read.settledCount([roundId]));
  if (pass.acting.includes(number) && settled === Number(await distributor.read.payeeCount([roundId]))) {
    await runOnChainStep(
      state,
      { round: Number(roundId), step: "committee-complete-settlement" },
      signerTransactionDriver(signer, {
        to: committeeAddress(deployment),
        data: encodeFunctionData({ abi: custodianCommitteeAbi, functionName: "completeSettlement", args: [roundId] }),
      }),
    );
    options.log?.(`round ${roundId}: settlement completed`);
  }
  return (await closed()) ? "settled" : "released";
}

/** Where a member stands in a round's proposals: its number, the settlement order and who acts this turn. */
interface ProposalPass {
  readonly roundId: bigint;
  readonly number: number;
  readonly threshold: number;
  readonly order: readonly number[];
  readonly acting: readonly number[];
}

/**
 * One pass over a round's proposals of one kind, in batches of `SHARES_PER_PROPOSAL`: "settle" (shares credited on
 * the distributor) or "seal" (usage totals sealed on the usage terms). A member whose turn it is proposes a batch
 * nobody proposed; every other member confirms the proposals of its batch with its own encryption of the values it
 * computed; the proposer (or, after its turn, one in turn) executes once t − 1 confirmations decrypt to true.
 */
async function proposalPass(
  options: MemberRoleOptions,
  pass: ProposalPass,
  kind: "settle" | "seal",
  payees: readonly Address[],
  values: readonly bigint[],
): Promise<void> {
  const { deployment, signer, state, fhevm } = options;
  const { roundId, number, threshold, order } = pass;
  const reader = signer.reader;
  const committee = committeeFor(deployment, signer);
  const acting = pass.acting.includes(number);
  const batches = settlementBatches(payees.length, SHARES_PER_PROPOSAL);
  const encrypt = (batch: readonly bigint[]) =>
    encryptedBatch(fhevm, committeeAddress(deployment), signer.address, batch);
  const proposals = (
    kind === "seal"
      ? (
          await reader.getContractEvents({
            address: committeeAddress(deployment),
            abi: custodianCommitteeAbi,
            eventName: "UsageSealProposed",
            args: { roundId },
            fromBlock: BigInt(deployment.deployedAtBlock),
          })
        ).map((p) => ({ proposalId: p.args.proposalId!, proposer: p.args.proposer!, payees: p.args.artists! }))
      : (
          await reader.getContractEvents({
            address: committeeAddress(deployment),
            abi: custodianCommitteeAbi,
            eventName: "SettlementProposed",
            args: { roundId },
            fromBlock: BigInt(deployment.deployedAtBlock),
          })
        ).map((p) => ({ proposalId: p.args.proposalId!, proposer: p.args.proposer!, payees: p.args.contributors! }))
  ) as { proposalId: bigint; proposer: Address; payees: readonly Address[] }[];
  for (const [k, [start, end]] of batches.entries()) {
    const batch = payees.slice(start, end);
    const mine = values.slice(start, end);
    const ofBatch = proposals.filter(
      (p) => p.payees.length === batch.length && p.payees.every((c, i) => sameAddress(c, batch[i])),
    );
    const records = await Promise.all(ofBatch.map((p) => committee.read.proposal([p.proposalId])));
    if (records.some((r) => r.executed)) continue;
    if (ofBatch.length === 0) {
      const stepName = kind === "seal" ? `committee-seal-${k}` : `committee-propose-${k}`;
      if (acting && state.getStep(Number(roundId), stepName) === undefined) {
        if (number !== order[0]) {
          options.log?.(
            `round ${roundId}: member ${order[0]} proposed no ${kind === "seal" ? "seal" : "settlement"} within ${SETTLEMENT_TURN_SECONDS} s of the release: member ${number} proposes batch ${k + 1} in its place`,
          );
        }
        const encrypted = await encrypt(mine);
        await runOnChainStep(
          state,
          { round: Number(roundId), step: stepName },
          signerTransactionDriver(signer, {
            to: committeeAddress(deployment),
            data: encodeFunctionData({
              abi: custodianCommitteeAbi,
              functionName: kind === "seal" ? "proposeUsageSeal" : "proposeSettlement",
              args: [roundId, [...batch], encrypted.handles, encrypted.proofs],
            }),
          }),
        );
        options.log?.(
          `round ${roundId}: proposed ${kind === "seal" ? "sealing usage totals" : "settlement"} batch ${k + 1}/${batches.length}`,
        );
      }
      continue;
    }
    for (const p of ofBatch) {
      if (sameAddress(p.proposer, signer.address)) continue;
      if (BigInt(await committee.read.agreementOf([p.proposalId, signer.address])) !== 0n) continue;
      const encrypted = await encrypt(mine);
      await mined(reader, committee.write.confirmSettlement([p.proposalId, encrypted.handles, encrypted.proofs]));
      options.log?.(`round ${roundId}: confirmed ${kind === "seal" ? "seal" : "settlement"} proposal ${p.proposalId}`);
    }
    // Its proposer executes a proposal; once the proposer's turn is over (it may have gone down after proposing), any
    // member whose turn came executes it too (anyone may: the KMS's proof of agreement is what the contract checks).
    for (const p of ofBatch) {
      const mineToExecute = sameAddress(p.proposer, signer.address);
      if (mineToExecute || (acting && number !== order[0] && pass.acting.length > 1)) {
        await executeIfConfirmed(options, p.proposalId, batch, threshold);
      }
    }
  }
}

/**
 * How long each member in the settlement order has to propose (chain seconds) before the next one takes over: the
 * decrypting set's lowest member first, from the release's anchoring; if it is down, the next member after one turn,
 * and so on. The contract lets any member propose, confirm and (anyone) execute, so a silent proposer costs a turn.
 */
export const SETTLEMENT_TURN_SECONDS = 600;

/** Who proposes a round's settlement, in turn: the decrypting set ascending, then the other members ascending. */
export function settlementOrder(set: readonly number[], members: number): number[] {
  const inSet = [...set].sort((a, b) => a - b);
  const others = Array.from({ length: members }, (_, i) => i + 1).filter((m) => !inSet.includes(m));
  return [...inSet, ...others];
}

/** The members whose turn has come (`order`'s first always; the k-th once k turns passed since the anchoring). */
export function membersInTurn(order: readonly number[], secondsSinceAnchor: number): number[] {
  const turns = Math.max(0, Math.floor(secondsSinceAnchor / SETTLEMENT_TURN_SECONDS));
  return order.slice(0, Math.min(order.length, turns + 1));
}

async function settlementTurns(
  options: MemberRoleOptions,
  roundId: bigint,
  order: readonly number[],
): Promise<{ acting: number[] }> {
  const reader = options.signer.reader;
  const [agreed] = await reader.getContractEvents({
    address: committeeAddress(options.deployment),
    abi: custodianCommitteeAbi,
    eventName: "ReleaseAgreed",
    args: { roundId },
    fromBlock: BigInt(options.deployment.deployedAtBlock),
  });
  if (agreed === undefined) return { acting: order.slice(0, 1) };
  const anchoredAt = (await reader.getBlock({ blockNumber: agreed.blockNumber })).timestamp;
  const now = (await reader.getBlock()).timestamp;
  return { acting: membersInTurn(order, Number(now - anchoredAt)) };
}

/** Executes proposal `proposalId` when t − 1 confirmations decrypt to true (the KMS proof goes with it). */
async function executeIfConfirmed(
  options: MemberRoleOptions,
  proposalId: bigint,
  contributors: readonly Address[],
  threshold: number,
): Promise<void> {
  const { deployment, signer, fhevm } = options;
  const committee = committeeFor(deployment, signer);
  if ((await committee.read.proposal([proposalId])).executed) return;
  const confirmations = await signer.reader.getContractEvents({
    address: committeeAddress(deployment),
    abi: custodianCommitteeAbi,
    eventName: "SettlementConfirmed",
    args: { proposalId },
    fromBlock: BigInt(deployment.deployedAtBlock),
  });
  const agreeing: { member: Address; handle: Hex }[] = [];
  for (const c of confirmations) {
    const handle = c.args.agreed!;
    if ((await fhevm.publicDecrypt([handle])).clearValues[handle] === true) {
      agreeing.push({ member: c.args.member!, handle });
    }
  }
  if (agreeing.length < threshold - 1) return;
  const chosen = agreeing.sort((a, b) => (BigInt(a.member) < BigInt(b.member) ? -1 : 1)).slice(0, threshold - 1);
  const proof = await fhevm.publicDecrypt(chosen.map((c) => c.handle));
  const receipt = await mined(
    signer.reader,
    committee.write.executeSettlement([
      proposalId,
      [...contributors],
      chosen.map((c) => c.member),
      proof.decryptionProof,
    ]),
  );
  const executed = parseEventLogs({ abi: custodianCommitteeAbi, logs: receipt.logs }).map((e) => e.eventName);
  const outcome = executed.includes("UsageTotalsSealed")
    ? "usage totals sealed"
    : executed.includes("SettlementExecuted")
      ? "settled"
      : "?";
  options.log?.(`proposal ${proposalId} executed (${outcome})`);
}
