// The key custodian role: generates the program's epoch keys (the public bundle covers encryption, FedAvg and the
// Shapley rotations), accepts on-chain only programs whose terms its policy allows, and serves only the programs it
// accepted. For a round of such a program it acts only once the round is Finalized (its dispute window closed with
// no open challenge): it decrypts only outputs the standing publication lists (the FedAvg aggregate → the new global
// model, the encrypted scores → φ), floods what it releases with noise, publishes the release record and anchors it
// with `anchorRelease`, then settles each contributor's integer share of the pool as fhEVM encrypted inputs in
// batches that fit one transaction and completes the settlement. It never sees an input in clear and never acts on
// a cancelled round.
import { readFile } from "node:fs/promises";
import { encodeFunctionData } from "viem";
import { roundManagerAbi, royaltyDistributorAbi } from "@ciphershare/protocol/chain/abis";
import {
  CUSTODIAN_MIN_CONTRIBUTORS,
  RoundPhase,
  SettlementState,
  SHARES_PER_PROOF,
  SHARES_PER_SETTLEMENT,
  ValuationMethod,
} from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { getParameterSet } from "@ciphershare/protocol/ckks/params";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { sameAddress, sameHash, type Address, type Hex } from "@ciphershare/protocol/hex";
import { decodeDataset } from "@ciphershare/protocol/records/dataset";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { decodeModel, encodeModel } from "@ciphershare/protocol/records/model";
import { decodeReleaseRecord, releasedScores, type ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { decodeRoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { ROUND_MODEL_NORM_BOUND, ROUND_PARAMETER_SET_ID, roundConfig } from "@ciphershare/protocol/round/config";
import { includedContributions } from "@ciphershare/protocol/round/inputs";
import { mined, type ChainReader, type ChainSigner } from "../chain/clients";
import { programGaloisSteps } from "../training/keys";
import { contractsFor, contractsToRead, readProgram, readRound, type ProgramState } from "../chain/contracts";
import {
  readAcceptedPrograms,
  readCommitments,
  readFinalizedRounds,
  readPublishedRounds,
  readReasons,
} from "../chain/events";
import { isUsageProgram } from "../chain/usage-terms";
import type { FhevmClient } from "../chain/fhevmClient";
import { signerTransactionDriver } from "../chain/transactionDriver";
import { KeyCustodian } from "../keys/key-custodian";
import { writeKeystoreFile, type ScryptParameters } from "../keys/keystore";
import type { RoundCommitmentSource } from "../keys/policy";
import { largestRemainderShares } from "../payouts/shares";
import { scoresFromRelease } from "../shapley/encrypted/release";
import { squaredErrorUtility } from "../shapley/utility";
import { publicationStep, runOnChainStep, runStep } from "../state/journal";
import type { StateStore } from "../state/store";
import type { BlobStore, StoreForUri } from "../storage/blob-store";
import { publishBundleParts } from "../storage/key-bundle";
import { aggregateRelease, scoresRelease } from "../threshold/release-bounds";
import { roundCoefficientMap, roundKernel, roundKeyOptions, roundValuation } from "./computation";
import type { ProjectionKeyProfile } from "../shapley/encrypted/key-profile";
import { challengeStep, requireVerified, verificationOf, verifyStep } from "./custodian-verification";
import type { WorkIsolation } from "./isolation";

export class CustodianError extends CipherShareError {
  override name = "CustodianError";
}

const NAMESPACE = "custodian";

/** What the program's models look like: the Galois keys cover the projection of a d×c model. */
export interface ProgramModelShape {
  readonly dimension: number;
  readonly classes: number;
  /** Default: the set new rounds use (deep-v2). */
  readonly parameterSetId?: string;
  /** A training program's key (docs/training.md): rotation keys for the d × (d + c) masked products instead. */
  readonly training?: boolean;
  /**
   * The valuation's Galois key set (`key-profile.ts`, default "computed"). "submitted" (13 power-of-two keys and the conjugation) suits
   * rounds whose contributors submit their projections; rounds without them still work, projecting with composed
   * rotations, and the custodian must then release with the same profile (`CustodianRoleOptions.projections`).
   */
  readonly projections?: ProjectionKeyProfile;
}

/**
 * Generates an epoch's keys: publishes the public bundle (its manifest, encryption and evaluation halves), writes the
 * sealed keystore; returns the manifest hash (the program's on-chain key hash).
 */
export async function generateProgramKeys(
  store: BlobStore,
  keystorePath: string,
  passphrase: string,
  model: ProgramModelShape,
  scrypt?: ScryptParameters,
): Promise<{ publicBundleHash: Hex; bundleBytes: number; contributorBundleBytes: number; galoisKeys: number }> {
  const ctx = await CkksContext.create(getParameterSet(model.parameterSetId ?? ROUND_PARAMETER_SET_ID));
  try {
    if (model.training && (model.projections ?? "computed") !== "computed") {
      throw new CustodianError("A training program's key has its own rotation steps: no projection key profile.", {
        details: `projections ${model.projections}`,
      });
    }
    const keyOptions = model.training
      ? { galoisSteps: programGaloisSteps({ features: model.dimension, outputs: model.classes }, ctx.slotCount) }
      : roundKeyOptions(ctx.slotCount, model.dimension, model.classes, model.projections);
    const keys = await KeyCustodian.generateEpochKeys(ctx, passphrase, keyOptions, scrypt);
    await publishBundleParts(store, keys.parts);
    await writeKeystoreFile(keystorePath, keys.keystore);
    return {
      publicBundleHash: keys.publicBundleHash,
      bundleBytes: keys.bundleBytes.length,
      contributorBundleBytes: keys.parts.encryption.length,
      galoisKeys: keyOptions.galoisSteps?.length ?? 0,
    };
  } finally {
    ctx.dispose();
  }
}

/**
 * The decryption policy's view of a round, read from the chain: its outputs are the standing publication's hashes
 * once the round is Finalized, and only for a program `custodian` accepted; its inputs are every revealed hash.
 */
export class ChainRoundCommitments implements RoundCommitmentSource {
  constructor(
    private readonly deployment: Deployment,
    private readonly reader: ChainReader,
    private readonly custodian: Address,
  ) {}

  async outputCommitments(roundId: bigint): Promise<readonly Hex[]> {
    if (!(await this.exists(roundId))) return [];
    const { rounds } = contractsToRead(this.deployment, this.reader);
    const round = await readRound(this.deployment, this.reader, roundId);
    if (round.phase !== RoundPhase.Finalized) return [];
    if (!(await rounds.read.hasAccepted([round.programId, this.custodian]))) return [];
    return [round.aggregateHash, round.scoresHash];
  }

  async inputCommitments(roundId: bigint): Promise<readonly Hex[]> {
    if (!(await this.exists(roundId))) return [];
    return (await readCommitments(this.reader, this.deployment, roundId))
      .map((c) => c.ciphertextHash)
      .filter((hash) => BigInt(hash) !== 0n);
  }

  private async exists(roundId: bigint): Promise<boolean> {
    const { rounds } = contractsToRead(this.deployment, this.reader);
    return roundId >= 1n && roundId <= (await rounds.read.roundCount());
  }
}

/** Why this custodian's policy refuses a program's terms (empty: acceptable). */
export function programRefusals(program: ProgramState, custodian: Address, ownBundleHash?: Hex): string[] {
  const refusals: string[] = [];
  if (!sameAddress(program.custodian, custodian)) refusals.push(`it names another custodian (${program.custodian})`);
  if (ownBundleHash !== undefined && !sameHash(program.publicKeyHash, ownBundleHash)) {
    refusals.push(`its key hash ${program.publicKeyHash} is not this custodian's bundle ${ownBundleHash}`);
  }
  if (program.minContributors < CUSTODIAN_MIN_CONTRIBUTORS) {
    refusals.push(
      `its minimum crowd of ${program.minContributors} lets an aggregate reveal a single update (policy: at least ${CUSTODIAN_MIN_CONTRIBUTORS})`,
    );
  }
  if (program.valuationMethod !== ValuationMethod.ExactShapley) {
    refusals.push(`its valuation method ${program.valuationMethod} is not one this custodian serves`);
  }
  return refusals;
}

/**
 * Accepts program `programId` on-chain after checking its terms against the custodian's policy (`programRefusals`);
 * `force` accepts despite refusals. Accepting says nothing about other programs naming this custodian.
 */
export async function acceptProgram(
  deployment: Deployment,
  custodian: ChainSigner,
  programId: bigint,
  options: { ownBundleHash?: Hex; force?: boolean } = {},
): Promise<{ program: ProgramState; outcome: "accepted" | "already-accepted"; overruled: string[] }> {
  const program = await readProgram(deployment, custodian.reader, programId);
  const refusals = programRefusals(program, custodian.address, options.ownBundleHash);
  if (refusals.length > 0 && options.force !== true) {
    throw new CustodianError("The custodian's policy refuses this program.", {
      details: `program ${programId}: ${refusals.join("; ")}`,
    });
  }
  const { rounds } = contractsFor(deployment, custodian);
  if (await rounds.read.hasAccepted([programId, custodian.address])) {
    return { program, outcome: "already-accepted", overruled: refusals };
  }
  await mined(custodian.reader, rounds.write.acceptProgram([programId]));
  return { program, outcome: "accepted", overruled: refusals };
}

export interface CustodianRoleOptions {
  readonly deployment: Deployment;
  readonly signer: ChainSigner;
  readonly state: StateStore;
  readonly store: BlobStore;
  readonly fhevm: FhevmClient;
  readonly keystorePath: string;
  readonly passphrase: string;
  readonly log?: (line: string) => void;
  /** The store a reveal's URI names, for recomputing publications (default: `store`). */
  readonly storeForUri?: StoreForUri;
  /** Deadline of one input's download while recomputing (default `CONTRIBUTION_FETCH_TIMEOUT_MS`). */
  readonly fetchTimeoutMs?: number;
  /** Worker threads of the Shapley recomputation. */
  readonly workers?: number;
  /** Serve only these programs (default: every program this custodian accepted). */
  readonly programs?: readonly bigint[];
  /**
   * The key profile this custodian's key was generated with (`ProgramModelShape.projections`, default "computed"): the
   * flooding of φ counts the key switches of the projection's rotations with that key set (composed ones with
   * "submitted"), so it stays a true bound for a contributor the coprocessor projects itself.
   */
  readonly projections?: ProjectionKeyProfile;
}

/**
 * Decrypts the finalized round's two published outputs (and nothing else: the policy refuses inputs, unpublished
 * hashes and rounds not yet final before any SEAL work), publishes the new global model and the release record.
 * The contributors are those the standing publication included, in commit order.
 */
export async function releaseRound(
  options: CustodianRoleOptions,
  roundId: bigint,
): Promise<{ record: ReleaseRecord; phi: number[] }> {
  const { deployment, signer, store } = options;
  const reader = signer.reader;
  const round = await readRound(deployment, reader, roundId);
  // Nothing is decrypted that the custodian did not recompute byte for byte from the committed inputs.
  requireVerified(options.state, round);
  const program = await readProgram(deployment, reader, round.programId);
  const config = roundConfig(decodeRoundManifest(await store.get(round.manifestHash)), program.valuationMethod);
  const commitments = await readCommitments(reader, deployment, roundId);
  const reasons = await readReasons(reader, deployment, roundId, round.publication, commitments.length);
  const included = includedContributions(commitments, reasons);
  const contributors = included.map((c) => c.contributor);
  const policy = new ChainRoundCommitments(deployment, reader, signer.address);
  const ctx = await CkksContext.create(config.parameterSet);
  const keystore = await readFile(options.keystorePath, "utf8");
  const custodian = await KeyCustodian.open(ctx, keystore, options.passphrase, { commitments: policy });
  try {
    // Each output is flooded for the bound of the computation that produced it, from public round data only.
    const sampleCounts = included.map((c) => c.sampleCount);
    const aggregate = await custodian.decryptOutput(
      roundId,
      await store.get(round.aggregateHash),
      aggregateRelease(ctx, sampleCounts, ROUND_MODEL_NORM_BOUND),
    );
    const base = decodeModel(await store.get(config.baseModel));
    const globalModel = await store.put(
      encodeModel({
        weights: aggregate.values.slice(0, base.weights.length),
        dimension: base.dimension,
        classes: base.classes,
      }),
    );

    // Enc(φ) is an Aggregate envelope listed as the round's second output: the same policy, its own bound. Its
    // manifest says n, its header the output scale.
    const validation = decodeDataset(await store.get(config.validation));
    const kernel = roundKernel(validation, base);
    const map = roundCoefficientMap(sampleCounts, kernel);
    const scores = await custodian.decryptOutput(
      roundId,
      await store.get(round.scoresHash),
      scoresRelease(
        ctx,
        kernel,
        map,
        ROUND_MODEL_NORM_BOUND,
        roundKeyOptions(ctx.slotCount, base.dimension, base.classes, options.projections).galoisSteps,
      ),
    );
    const { phi } = scoresFromRelease(scores, contributors.length);
    const record: ReleaseRecord = {
      kind: "ciphershare.release",
      version: 1,
      round: Number(roundId),
      aggregate: round.aggregateHash,
      scores: round.scoresHash,
      globalModel,
      contributors,
      utilityEmpty: squaredErrorUtility(base, validation),
      floodingSigma: aggregate.floodingSigma,
      valuation: roundValuation(map),
      ...releasedScores(config.scoreRelease, contributors, phi),
    };
    return { record, phi };
  } finally {
    custodian.dispose();
    ctx.dispose();
  }
}

/** Where a round stands for the custodian after `serveRound`. */
export type ServeOutcome =
  /** Not (or no longer) the custodian's to serve: neither published nor Finalized, or a program it does not serve. */
  | "not-served"
  /** In its dispute window, recomputed: both outputs match. */
  | "verified"
  /** In its dispute window, recomputed: a mismatch, challenged on-chain. Never decrypted. */
  | "challenged"
  /** Recomputed with a mismatch after its window closed: never decrypted. */
  | "refused"
  /** Released and anchored; the pool is not funded yet. */
  | "released"
  /** Every share settled and the settlement completed (or closed by the network's recovery): nothing left to do. */
  | "settled";

/**
 * One round of a program the custodian serves, step by step, each journaled. A published round in its dispute
 * window: recompute its outputs, and challenge them on a mismatch. A finalized round: recompute (if it was not done
 * in the window) and refuse on a mismatch; else release (decrypt, publish the record), anchor the release on-chain,
 * then once the pool is funded settle the shares in batches of `SHARES_PER_SETTLEMENT` and complete.
 */
export async function serveRound(options: CustodianRoleOptions, roundId: bigint): Promise<ServeOutcome> {
  const { state, signer, deployment } = options;
  const round = await readRound(deployment, signer.reader, roundId);
  if (round.phase !== RoundPhase.Finalized && round.phase !== RoundPhase.ResultsPublished) return "not-served";
  if (options.programs !== undefined && !options.programs.includes(round.programId)) return "not-served";
  const { rounds } = contractsToRead(deployment, signer.reader);
  if (!(await rounds.read.hasAccepted([round.programId, signer.address]))) return "not-served";
  const verdict = await verifyStep(options, roundId);
  if (!verdict.matches) {
    const now = (await signer.reader.getBlock()).timestamp;
    if (round.phase === RoundPhase.ResultsPublished && now <= round.disputeDeadline) {
      await challengeStep(options, verdict);
      return "challenged";
    }
    options.log?.(
      `round ${roundId}: publication ${round.publication} does not match its recomputation: never decrypted`,
    );
    return "refused";
  }
  if (round.phase === RoundPhase.ResultsPublished) return "verified";
  const releaseHash = await releaseStep(options, roundId);
  await anchorStep(options, roundId, releaseHash);
  const record = decodeReleaseRecord(await options.store.get(releaseHash));
  return settlePool(options, roundId, record.contributors as Address[], () =>
    custodianPhi(state, Number(roundId), record.contributors),
  );
}

/**
 * Settles a released round's funded pool, journaled step by step: the shares (largest remainder over `phi()`, in the
 * order of `contributors`) in batches of encrypted inputs, then `completeSettlement`. "released" while the pool is not
 * funded, "settled" once the settlement is (or already was) complete. Federated and training rounds share it.
 */
export async function settlePool(
  options: CustodianRoleOptions,
  roundId: bigint,
  contributors: readonly Address[],
  phi: () => number[],
): Promise<"released" | "settled"> {
  const { state, signer, deployment } = options;
  const { distributor } = contractsToRead(deployment, signer.reader);
  if (Number(await distributor.read.settlementState([roundId])) !== SettlementState.Open) return "settled";
  if (BigInt(await distributor.read.poolOf([roundId])) === 0n) return "released";
  await settleSteps(options, roundId, contributors, phi);
  await runOnChainStep(
    state,
    { round: Number(roundId), step: "complete-settlement" },
    signerTransactionDriver(signer, {
      to: deployment.distributor,
      data: encodeFunctionData({ abi: royaltyDistributorAbi, functionName: "completeSettlement", args: [roundId] }),
    }),
  );
  options.log?.(`round ${roundId}: settlement completed`);
  return "settled";
}

/** Decrypts and publishes the release record once; returns its hash. */
async function releaseStep(options: CustodianRoleOptions, roundId: bigint): Promise<Hex> {
  const { state, store } = options;
  const round = Number(roundId);
  const key = `round:${round}:release`;
  await runStep(state, { round, step: "release" }, async () => {
    const { record, phi } = await releaseRound(options, roundId);
    const hash = await store.put(encodeJsonRecord(record));
    state.recordScores(
      round,
      record.contributors.map((contributor, i) => ({ contributor, phi: phi[i] })),
    );
    state.setValue(NAMESPACE, key, hash);
    options.log?.(`round ${round}: released the global model and φ (${hash.slice(0, 10)}…)`);
    return hash;
  });
  return state.getValue(NAMESPACE, key) as Hex;
}

/** `anchorRelease(round, releaseHash)`, once (an anchor already on-chain for this hash is kept). */
async function anchorStep(options: CustodianRoleOptions, roundId: bigint, releaseHash: Hex): Promise<void> {
  const { state, signer, deployment } = options;
  const round = Number(roundId);
  const anchored = (await readRound(deployment, signer.reader, roundId)).releaseHash;
  if (BigInt(anchored) !== 0n) {
    if (!sameHash(anchored, releaseHash)) {
      throw new CustodianError("Another release is anchored for this round.", {
        details: `round ${round}: anchored ${anchored}, released ${releaseHash}`,
      });
    }
    return;
  }
  await runOnChainStep(
    state,
    { round, step: "anchor-release" },
    signerTransactionDriver(signer, {
      to: deployment.rounds,
      data: encodeFunctionData({ abi: roundManagerAbi, functionName: "anchorRelease", args: [roundId, releaseHash] }),
    }),
  );
}

/** Splits `count` settlement shares into the batches one `settle` call takes: [start, end) ranges. */
export function settlementBatches(count: number, perBatch: number = SHARES_PER_SETTLEMENT): [number, number][] {
  const batches: [number, number][] = [];
  for (let start = 0; start < count; start += perBatch) batches.push([start, Math.min(count, start + perBatch)]);
  return batches;
}

/**
 * The shares of the pool (largest remainder over the released φ, in the release record's order), settled in batches,
 * each batch a journaled transaction with its own encrypted inputs (`SHARES_PER_PROOF` per proof).
 */
async function settleSteps(
  options: CustodianRoleOptions,
  roundId: bigint,
  recipients: readonly Address[],
  phi: () => number[],
): Promise<void> {
  const { state, signer, deployment } = options;
  const round = Number(roundId);
  const { distributor } = contractsToRead(deployment, signer.reader);
  const poolHandle = await distributor.read.poolOf([roundId]);
  let shares: bigint[] | undefined;
  const sharesOf = async () => {
    if (shares !== undefined) return shares;
    const pool = (await options.fhevm.publicDecrypt([poolHandle])).clearValues[poolHandle];
    if (typeof pool !== "bigint") throw new CustodianError("The pool handle did not decrypt to an amount.");
    shares = largestRemainderShares(pool, phi()).shares;
    return shares;
  };
  const batches = settlementBatches(recipients.length);
  for (const [k, [start, end]] of batches.entries()) {
    const contributors = recipients.slice(start, end) as Address[];
    const driver = signerTransactionDriver(signer, async () => {
      const handles: Hex[] = [];
      const proofs: Hex[] = [];
      const batch = (await sharesOf()).slice(start, end);
      for (let first = 0; first < batch.length; first += SHARES_PER_PROOF) {
        const encrypted = await options.fhevm.encryptUint64(
          deployment.distributor,
          signer.address,
          batch.slice(first, first + SHARES_PER_PROOF),
        );
        handles.push(...encrypted.handles);
        proofs.push(encrypted.inputProof);
      }
      return {
        to: deployment.distributor,
        data: encodeFunctionData({
          abi: royaltyDistributorAbi,
          functionName: "settle",
          args: [roundId, contributors, handles, proofs],
        }),
      };
    });
    await runOnChainStep(state, { round, step: `settle-${k}` }, driver);
    options.log?.(`round ${round}: settled batch ${k + 1}/${batches.length} (${contributors.length} encrypted shares)`);
  }
}

/**
 * The flooded φ the custodian released to itself for a round, in the order of `contributors` when given (private:
 * only the custodian's database holds it).
 */
export function custodianPhi(state: StateStore, round: number, contributors?: readonly string[]): number[] {
  const scores = state.scoresOf(round);
  if (scores === undefined) throw new CustodianError(`No released φ for round ${round}.`);
  if (
    contributors !== undefined &&
    (contributors.length !== scores.length || !contributors.every((c, i) => sameAddress(c, scores[i].contributor)))
  ) {
    throw new CustodianError(`The released φ of round ${round} are for other contributors than its release record.`);
  }
  return scores.map((score) => score.phi);
}

/**
 * Rounds of the programs this custodian accepted (and is configured for), oldest first, that need it: a standing
 * publication in its dispute window not yet recomputed (or found wrong and not yet challenged), and finalized
 * rounds it has not finished (settlement completed) nor refused. Programs that merely name it are not served:
 * acceptance is per program.
 */
export async function servedRounds(
  options: Pick<CustodianRoleOptions, "deployment" | "signer" | "state" | "programs">,
): Promise<bigint[]> {
  const { deployment, signer, state } = options;
  const accepted = (await readAcceptedPrograms(signer.reader, deployment, signer.address)).filter(
    (id) => options.programs === undefined || options.programs.includes(id),
  );
  if (accepted.length === 0) return [];
  const [published, finalized] = await Promise.all([
    readPublishedRounds(signer.reader, deployment),
    readFinalizedRounds(signer.reader, deployment),
  ]);
  const ids: bigint[] = [];
  for (const id of [...new Set([...published, ...finalized])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const round = Number(id);
    if (state.getStep(round, "complete-settlement")?.status === "confirmed") continue;
    const current = await readRound(deployment, signer.reader, id);
    if (!accepted.includes(current.programId)) continue;
    if (await isUsageProgram(deployment, signer.reader, current)) continue; // served by roles/usage-custodian-daemon.ts
    const verdict = verificationOf(state, round, current.publication);
    if (current.phase === RoundPhase.ResultsPublished) {
      const challenged =
        state.getStep(round, publicationStep(current.publication, "challenge"))?.status === "confirmed";
      if (verdict === undefined || (!verdict.matches && !challenged)) ids.push(id);
    } else if (current.phase === RoundPhase.Finalized && verdict?.matches !== false) ids.push(id);
  }
  return ids;
}

/** What one pass over the served rounds did: each round's outcome, or its failure with the reason. */
export interface CustodianPass {
  readonly outcomes: { readonly round: bigint; readonly outcome: ServeOutcome }[];
  readonly failed: { readonly round: bigint; readonly reason: string; readonly attempts: number }[];
  readonly deferred: bigint[];
}

/**
 * One pass over the served rounds, each in isolation (`WorkIsolation`): a round that fails (an input that cannot be
 * fetched, a missing blob, a reverted transaction) is recorded with its reason and retried after a delay, and the
 * pass goes on with the next round (of this or another program).
 */
export async function custodianPass(options: CustodianRoleOptions, isolation: WorkIsolation): Promise<CustodianPass> {
  const pass = {
    outcomes: [] as CustodianPass["outcomes"][number][],
    failed: [] as CustodianPass["failed"][number][],
    deferred: [] as bigint[],
  };
  for (const round of await servedRounds(options)) {
    const outcome = await isolation.run(`round:${round}`, () => serveRound(options, round));
    if (outcome.status === "done") pass.outcomes.push({ round, outcome: outcome.value });
    else if (outcome.status === "deferred") pass.deferred.push(round);
    else {
      const { reason, attempts } = outcome.failure;
      options.log?.(`round ${round}: failed (attempt ${attempts}): ${reason}; moving on`);
      pass.failed.push({ round, reason, attempts });
    }
  }
  return pass;
}
