// The key custodian role: generates the program's epoch keys (the public bundle covers encryption, FedAvg and the
// Shapley rotations), decrypts only outputs the chain lists for a round (the FedAvg aggregate → the new global model,
// the encrypted scores → φ), floods what it releases with noise, publishes the release, and settles each
// contributor's integer share of the pool on-chain as fhEVM encrypted inputs. It never sees an input in clear.
import { readFile } from "node:fs/promises";
import { encodeFunctionData } from "viem";
import { royaltyDistributorAbi } from "@ciphershare/protocol/chain/abis";
import { RoundPhase, SHARES_PER_PROOF } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { getParameterSet } from "@ciphershare/protocol/ckks/params";
import { sameAddress, type Hex } from "@ciphershare/protocol/hex";
import { decodeDataset } from "@ciphershare/protocol/records/dataset";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { decodeModel, encodeModel } from "@ciphershare/protocol/records/model";
import { releaseAnchorData } from "@ciphershare/protocol/records/release-anchor";
import { decodeReleaseRecord, releasedScores, type ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { decodeRoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { ROUND_MODEL_NORM_BOUND, ROUND_PARAMETER_SET_ID, roundConfig } from "@ciphershare/protocol/round/config";
import { includedContributions } from "@ciphershare/protocol/round/inputs";
import type { ChainReader, ChainSigner } from "../chain/clients";
import { contractsToRead, readProgram, readRound } from "../chain/contracts";
import { readCommitments, readExclusions } from "../chain/events";
import type { FhevmClient } from "../chain/fhevmClient";
import { signerTransactionDriver } from "../chain/transactionDriver";
import { KeyCustodian } from "../keys/key-custodian";
import { writeKeystoreFile, type ScryptParameters } from "../keys/keystore";
import type { RoundCommitmentSource } from "../keys/policy";
import { largestRemainderShares } from "../payouts/shares";
import { scoresFromRelease } from "../shapley/encrypted/release";
import { squaredErrorUtility } from "../shapley/utility";
import { runOnChainStep, runStep } from "../state/journal";
import type { StateStore } from "../state/store";
import type { BlobStore } from "../storage/blob-store";
import { aggregateRelease, scoresRelease } from "../threshold/release-bounds";
import { roundCoefficientMap, roundKernel, roundKeyOptions } from "./computation";

/** What the program's models look like: the Galois keys cover the projection of a d×c model. */
export interface ProgramModelShape {
  readonly dimension: number;
  readonly classes: number;
  /** Default: the set new rounds use (deep-v2). */
  readonly parameterSetId?: string;
}

/** Generates an epoch's keys: publishes the public bundle, writes the sealed keystore; returns the bundle hash. */
export async function generateProgramKeys(
  store: BlobStore,
  keystorePath: string,
  passphrase: string,
  model: ProgramModelShape,
  scrypt?: ScryptParameters,
): Promise<{ publicBundleHash: Hex; bundleBytes: number }> {
  const ctx = await CkksContext.create(getParameterSet(model.parameterSetId ?? ROUND_PARAMETER_SET_ID));
  try {
    const keyOptions = roundKeyOptions(ctx.slotCount, model.dimension, model.classes);
    const keys = await KeyCustodian.generateEpochKeys(ctx, passphrase, keyOptions, scrypt);
    const stored = await store.put(keys.bundleBytes);
    if (stored !== keys.publicBundleHash) throw new Error("the blob store returned another hash for the bundle");
    await writeKeystoreFile(keystorePath, keys.keystore);
    return { publicBundleHash: keys.publicBundleHash, bundleBytes: keys.bundleBytes.length };
  } finally {
    ctx.dispose();
  }
}

/** The decryption policy's view of a round, read from the chain: outputs = the published hashes. */
export class ChainRoundCommitments implements RoundCommitmentSource {
  constructor(
    private readonly deployment: Deployment,
    private readonly reader: ChainReader,
  ) {}

  async outputCommitments(roundId: bigint): Promise<readonly Hex[]> {
    const { rounds } = contractsToRead(this.deployment, this.reader);
    if (roundId < 1n || roundId > (await rounds.read.roundCount())) return [];
    const round = await readRound(this.deployment, this.reader, roundId);
    const published = round.phase === RoundPhase.ResultsPublished || round.phase === RoundPhase.Finalized;
    return published ? [round.aggregateHash, round.scoresHash] : [];
  }

  async inputCommitments(roundId: bigint): Promise<readonly Hex[]> {
    return (await readCommitments(this.reader, this.deployment, roundId)).map((c) => c.ciphertextHash);
  }
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
}

const NAMESPACE = "custodian";

/**
 * Decrypts the round's two published outputs (and nothing else: the policy refuses inputs and unpublished
 * hashes before any SEAL work), publishes the new global model and the release record. Returns the record.
 */
export async function releaseRound(
  options: CustodianRoleOptions,
  roundId: bigint,
): Promise<{ record: ReleaseRecord; phi: number[] }> {
  const { deployment, signer, store } = options;
  const reader = signer.reader;
  const round = await readRound(deployment, reader, roundId);
  const program = await readProgram(deployment, reader, round.programId);
  const config = roundConfig(decodeRoundManifest(await store.get(round.manifestHash)), program.valuationMethod);
  const [commitments, exclusions] = await Promise.all([
    readCommitments(reader, deployment, roundId),
    readExclusions(reader, deployment, roundId),
  ]);
  const included = includedContributions(commitments, exclusions);
  const contributors = included.map((c) => c.contributor);
  const policy = new ChainRoundCommitments(deployment, reader);
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
    const scores = await custodian.decryptOutput(
      roundId,
      await store.get(round.scoresHash),
      scoresRelease(ctx, kernel, roundCoefficientMap(sampleCounts, kernel), ROUND_MODEL_NORM_BOUND),
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
      ...releasedScores(config.scoreRelease, contributors, phi),
    };
    return { record, phi };
  } finally {
    custodian.dispose();
    ctx.dispose();
  }
}

/** Release (once), then anchor the release hash on-chain, then settle once the round is finalized and funded. */
export async function serveRound(
  options: CustodianRoleOptions,
  roundId: bigint,
): Promise<"released" | "settled" | "waiting"> {
  const { state, signer, deployment, store } = options;
  const log = options.log ?? (() => {});
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
    log(`round ${round}: released the global model and φ (${hash.slice(0, 10)}…)`);
    return hash;
  });
  const releaseHash = state.getValue(NAMESPACE, key) as Hex;
  await runOnChainStep(
    state,
    { round, step: "anchor-release" },
    signerTransactionDriver(signer, { to: signer.address, value: 0n, data: releaseAnchorData(round, releaseHash) }),
  );

  const { distributor } = contractsToRead(deployment, signer.reader);
  const phase = (await readRound(deployment, signer.reader, roundId)).phase;
  if (phase !== RoundPhase.Finalized) return "released";
  const poolHandle = await distributor.read.poolOf([roundId]);
  if (BigInt(poolHandle) === 0n) return "waiting";
  const done = state.getStep(round, "settle");
  if (done?.status === "confirmed") return "settled";
  const record = decodeReleaseRecord(await store.get(releaseHash));
  const driver = signerTransactionDriver(signer, async () => {
    const pool = (await options.fhevm.publicDecrypt([poolHandle])).clearValues[poolHandle];
    if (typeof pool !== "bigint") throw new Error(`the pool handle decrypted to ${String(pool)}`);
    const { shares } = largestRemainderShares(pool, custodianPhi(state, round, record.contributors));
    const handles: Hex[] = [];
    const proofs: Hex[] = [];
    for (let start = 0; start < shares.length; start += SHARES_PER_PROOF) {
      const encrypted = await options.fhevm.encryptUint64(
        deployment.distributor,
        signer.address,
        shares.slice(start, start + SHARES_PER_PROOF),
      );
      handles.push(...encrypted.handles);
      proofs.push(encrypted.inputProof);
    }
    return {
      to: deployment.distributor,
      data: encodeFunctionData({
        abi: royaltyDistributorAbi,
        functionName: "settle",
        args: [roundId, record.contributors as Hex[], handles, proofs],
      }),
    };
  });
  await runOnChainStep(state, { round, step: "settle" }, driver);
  log(`round ${round}: settled ${record.contributors.length} encrypted shares`);
  return "settled";
}

/**
 * The flooded φ the custodian released to itself for a round, in the order of `contributors` when given (private:
 * only the custodian's database holds it).
 */
export function custodianPhi(state: StateStore, round: number, contributors?: readonly string[]): number[] {
  const scores = state.scoresOf(round);
  if (scores === undefined) throw new Error(`no released φ for round ${round}`);
  if (
    contributors !== undefined &&
    (contributors.length !== scores.length || !contributors.every((c, i) => sameAddress(c, scores[i].contributor)))
  ) {
    throw new Error(`the released φ of round ${round} are for other contributors than its release record`);
  }
  return scores.map((score) => score.phi);
}

/** Rounds of this custodian's programs with published results, oldest first. */
export async function servedRounds(options: Pick<CustodianRoleOptions, "deployment" | "signer">): Promise<bigint[]> {
  const { deployment, signer } = options;
  const count = await contractsToRead(deployment, signer.reader).rounds.read.roundCount();
  const ids: bigint[] = [];
  for (let id = 1n; id <= count; id++) {
    const round = await readRound(deployment, signer.reader, id);
    if (round.phase !== RoundPhase.ResultsPublished && round.phase !== RoundPhase.Finalized) continue;
    const program = await readProgram(deployment, signer.reader, round.programId);
    if (sameAddress(program.custodian, signer.address)) ids.push(id);
  }
  return ids;
}
