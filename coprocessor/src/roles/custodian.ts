// The key custodian role: generates the program's epoch keys (the public bundle covers encryption, FedAvg and the
// Shapley rotations), decrypts only outputs the chain lists for a round (the FedAvg aggregate → the new global model,
// the encrypted scores → φ), floods what it releases with noise, publishes the release, and settles each
// contributor's integer share of the pool on-chain as fhEVM encrypted inputs. It never sees an input in clear.
import { readFile } from "node:fs/promises";
import type { HDNodeWallet, Wallet } from "ethers";
import type { ChainEvents } from "../chain/events";
import { CkksContext } from "../ckks/context";
import {
  contractsAt,
  readCommitments,
  readExclusions,
  readProgram,
  readRound,
  RoundPhase,
  type Address,
  type Deployment,
} from "../chain/ciphershare";
import type { FhevmClient } from "../chain/fhevmClient";
import { ethersTransactionDriver } from "../chain/transactionDriver";
import { KeyCustodian } from "../custodian/custodian";
import { writeKeystoreFile, type ScryptParameters } from "../custodian/keystore";
import type { RoundCommitmentSource } from "../custodian/policy";
import type { Hex } from "../hash/keccak";
import { decodeModel, encodeModel } from "../ml/model";
import { scoresFromRelease } from "../shapley/encrypted/release";
import { largestRemainderShares } from "../shapley/shares";
import { runOnChainStep, runStep } from "../state/journal";
import type { StateStore } from "../state/store";
import type { BlobStore } from "../storage/blob-store";
import { aggregateRelease, scoresRelease } from "../threshold/release-bounds";
import {
  roundCoefficientMap,
  roundKernel,
  roundKeyOptions,
  ROUND_MODEL_NORM_BOUND,
  ROUND_PARAMETER_SET,
} from "./computation";
import {
  decodeDataset,
  decodeReleaseRecord,
  decodeRoundManifest,
  encodeJsonRecord,
  releaseAnchorData,
  releasedScores,
  scoreReleaseOf,
  type ReleaseRecord,
} from "./records";
import { sameAddress } from "./workspace";

/** Generates an epoch's keys: publishes the public bundle, writes the sealed keystore; returns the bundle hash. */
export async function generateProgramKeys(
  store: BlobStore,
  keystorePath: string,
  passphrase: string,
  scrypt?: ScryptParameters,
): Promise<{ publicBundleHash: Hex; bundleBytes: number }> {
  const ctx = await CkksContext.create(ROUND_PARAMETER_SET);
  try {
    const keys = await KeyCustodian.generateEpochKeys(ctx, passphrase, roundKeyOptions(ctx.slotCount), scrypt);
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
    private readonly wallet: Wallet | HDNodeWallet,
    private readonly events: ChainEvents,
  ) {}

  async outputCommitments(roundId: bigint): Promise<readonly Hex[]> {
    const rounds = contractsAt(this.deployment, this.wallet).rounds;
    if (roundId < 1n || roundId > BigInt(await rounds.getFunction("roundCount")())) return [];
    const round = await readRound(rounds, roundId);
    const published = round.phase === RoundPhase.ResultsPublished || round.phase === RoundPhase.Finalized;
    return published ? [round.aggregateHash, round.scoresHash] : [];
  }

  async inputCommitments(roundId: bigint): Promise<readonly Hex[]> {
    return (await readCommitments(this.events, this.deployment, roundId)).map((c) => c.ciphertextHash);
  }
}

export interface CustodianRoleOptions {
  readonly deployment: Deployment;
  readonly wallet: Wallet | HDNodeWallet;
  readonly events: ChainEvents;
  readonly state: StateStore;
  readonly store: BlobStore;
  readonly fhevm: FhevmClient;
  readonly keystorePath: string;
  readonly passphrase: string;
  readonly log?: (line: string) => void;
}

const NAMESPACE = "custodian";

/** The included contributors of a published round, in commit order, with their sample counts. */
export async function includedContributors(
  events: ChainEvents,
  deployment: Deployment,
  roundId: bigint,
): Promise<{ contributor: Address; hash: Hex; sampleCount: number }[]> {
  const [commitments, exclusions] = await Promise.all([
    readCommitments(events, deployment, roundId),
    readExclusions(events, deployment, roundId),
  ]);
  return commitments
    .filter((c) => !exclusions.some((e) => sameAddress(e.contributor, c.contributor)))
    .map((c) => ({ contributor: c.contributor, hash: c.ciphertextHash, sampleCount: c.sampleCount }));
}

/**
 * Decrypts the round's two published outputs (and nothing else: the policy refuses inputs and unpublished
 * hashes before any SEAL work), publishes the new global model and the release record. Returns the record.
 */
export async function releaseRound(
  options: CustodianRoleOptions,
  roundId: bigint,
): Promise<{ record: ReleaseRecord; phi: number[] }> {
  const { deployment, wallet, events, store } = options;
  const rounds = contractsAt(deployment, wallet).rounds;
  const round = await readRound(rounds, roundId);
  const manifest = decodeRoundManifest(await store.get(round.baseModelHash));
  const included = await includedContributors(events, deployment, roundId);
  const policy = new ChainRoundCommitments(deployment, wallet, events);
  const ctx = await CkksContext.create(ROUND_PARAMETER_SET);
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
    const base = decodeModel(await store.get(manifest.baseModel));
    const globalModel = await store.put(
      encodeModel({
        weights: aggregate.values.slice(0, base.weights.length),
        dimension: base.dimension,
        classes: base.classes,
      }),
    );

    // Enc(φ) is an Aggregate envelope listed as the round's second output: the same policy, its own bound.
    const kernel = roundKernel(decodeDataset(await store.get(manifest.validation)), base);
    const map = roundCoefficientMap(sampleCounts, kernel);
    const scores = await custodian.decryptOutput(
      roundId,
      await store.get(round.scoresHash),
      scoresRelease(ctx, kernel, map, ROUND_MODEL_NORM_BOUND),
    );
    const { phi } = scoresFromRelease(scores.values, map);
    const contributors = included.map((c) => c.contributor);
    const record: ReleaseRecord = {
      kind: "ciphershare.release",
      version: 1,
      round: Number(roundId),
      aggregate: round.aggregateHash,
      scores: round.scoresHash,
      globalModel,
      contributors,
      utilityEmpty: kernel.utilityEmpty,
      floodingSigma: aggregate.floodingSigma,
      ...releasedScores(scoreReleaseOf(manifest), contributors, phi),
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
  const { state, wallet, deployment, store } = options;
  const log = options.log ?? (() => {});
  const round = Number(roundId);
  const key = `round:${round}:release`;
  await runStep(state, { round, step: "release" }, async () => {
    const { record, phi } = await releaseRound(options, roundId);
    const hash = await store.put(encodeJsonRecord(record));
    state.setValue(NAMESPACE, phiKey(round), phi);
    state.setValue(NAMESPACE, key, hash);
    log(`round ${round}: released the global model and φ (${hash.slice(0, 10)}…)`);
    return hash;
  });
  const releaseHash = state.getValue(NAMESPACE, key) as Hex;
  await runOnChainStep(
    state,
    { round, step: "anchor-release" },
    ethersTransactionDriver(wallet, { to: wallet.address, value: 0n, data: releaseAnchorData(round, releaseHash) }),
  );

  const { distributor, rounds } = contractsAt(deployment, wallet);
  const phase = (await readRound(rounds, roundId)).phase;
  if (phase !== RoundPhase.Finalized) return "released";
  const poolHandle = (await distributor.getFunction("poolOf")(roundId)) as Hex;
  if (BigInt(poolHandle) === 0n) return "waiting";
  const done = state.getStep(round, "settle");
  if (done?.status === "confirmed") return "settled";
  const record = decodeReleaseRecord(await store.get(releaseHash));
  const driver = ethersTransactionDriver(wallet, async () => {
    const pool = (await options.fhevm.publicDecrypt([poolHandle])).clearValues[poolHandle];
    if (typeof pool !== "bigint") throw new Error(`the pool handle decrypted to ${String(pool)}`);
    const { shares } = largestRemainderShares(pool, custodianPhi(state, round));
    const handles: Hex[] = [];
    const proofs: Hex[] = [];
    for (let start = 0; start < shares.length; start += 32) {
      const encrypted = await options.fhevm.encryptUint64(
        deployment.distributor,
        wallet.address,
        shares.slice(start, start + 32),
      );
      handles.push(...encrypted.handles);
      proofs.push(encrypted.inputProof);
    }
    return {
      to: deployment.distributor,
      data: distributor.interface.encodeFunctionData("settle", [roundId, record.contributors, handles, proofs]),
    };
  });
  await runOnChainStep(state, { round, step: "settle" }, driver);
  log(`round ${round}: settled ${record.contributors.length} encrypted shares`);
  return "settled";
}

function phiKey(round: number): string {
  return `round:${round}:phi`;
}

/** The flooded φ the custodian released to itself for a round (private: only the custodian's database holds it). */
export function custodianPhi(state: StateStore, round: number): number[] {
  const phi = state.getValue(NAMESPACE, phiKey(round));
  if (!Array.isArray(phi)) throw new Error(`no released φ for round ${round}`);
  return phi as number[];
}

/** Rounds of this custodian's programs with published results, oldest first. */
export async function servedRounds(options: Pick<CustodianRoleOptions, "deployment" | "wallet">): Promise<bigint[]> {
  const { rounds } = contractsAt(options.deployment, options.wallet);
  const count = BigInt(await rounds.getFunction("roundCount")());
  const ids: bigint[] = [];
  for (let id = 1n; id <= count; id++) {
    const round = await readRound(rounds, id);
    if (round.phase !== RoundPhase.ResultsPublished && round.phase !== RoundPhase.Finalized) continue;
    const program = await readProgram(rounds, round.programId);
    if (sameAddress(program.custodian, options.wallet.address)) ids.push(id);
  }
  return ids;
}
