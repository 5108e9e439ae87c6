// The network role: deploys the contracts (embedded default), creates a program for a coprocessor/custodian pair, the
// custodian's public bundle and the round terms (minimum crowd, commitment cap, recovery period, commit deposit), opens
// rounds once the custodian accepted the program (publishing the base model, the validation set and the round
// manifest whose hash goes on-chain), funds pools by wrapping an ERC-20 into the ERC-7984 royalty token, closes,
// finalizes and expires rounds, resolves challenges, and takes back what a round did not pay out: the pool of a
// cancelled or unsettled round and the forfeited commit deposits.
import { parseEventLogs } from "viem";
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import {
  CANCEL_REASON_NAMES,
  ROUND_PHASE_NAMES,
  RoundPhase,
  ValuationMethod,
} from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { programConfig, type ProgramTerms } from "@ciphershare/protocol/chain/program";
import { CipherShareError } from "@ciphershare/protocol/errors";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { encodeDataset, type Dataset } from "@ciphershare/protocol/records/dataset";
import { ProgramKind } from "@ciphershare/protocol/chain/constants";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { encodeModel, type LinearModel } from "@ciphershare/protocol/records/model";
import { encodeProjectionFactor, validationFactor } from "@ciphershare/protocol/records/projection-factor";
import type { RoundManifest, ScoreRelease } from "@ciphershare/protocol/records/round-manifest";
import { ROUND_PARAMETER_SET_ID, roundConfig } from "@ciphershare/protocol/round/config";
import { latestTimestamp, mined, type ChainSigner } from "../chain/clients";
import { contractsFor, readRound } from "../chain/contracts";
import type { FhevmClient } from "../chain/fhevmClient";
import type { BlobStore } from "../storage/blob-store";

export class NetworkError extends CipherShareError {
  override name = "NetworkError";
}

export async function createProgram(
  deployment: Deployment,
  network: ChainSigner,
  parties: {
    coprocessor: Address;
    custodian: Address;
    publicBundleHash: Hex;
    /** A training program: its buyer's key bundle and the hash of its published terms blob. */
    training?: { buyerKeyHash: Hex; termsHash: Hex };
    /** A usage program: keccak256(abi.encode(terms)) of the usage terms it must then be given (`setUsageTerms`). */
    usage?: { termsHash: Hex };
  },
  terms: ProgramTerms = {},
): Promise<bigint> {
  const { rounds } = contractsFor(deployment, network);
  const config = programConfig(
    {
      coprocessor: parties.coprocessor,
      custodian: parties.custodian,
      payoutToken: deployment.token,
      publicKeyHash: parties.publicBundleHash,
      ...(parties.training ? { kind: ProgramKind.Training, ...parties.training } : {}),
      ...(parties.usage ? { kind: ProgramKind.Usage, ...parties.usage } : {}),
    },
    terms,
  );
  await mined(network.reader, rounds.write.createProgram([config]));
  return rounds.read.programCount();
}

/**
 * Names program `programId`'s input auditors (`ProgramRegistry.setInputAuditors`): besides its coprocessor and
 * custodians, the addresses the blob store serves its rounds' input ciphertexts to. Only before the program is
 * active (its custodians accept them with the other terms); an empty list names none.
 */
export async function setInputAuditors(
  deployment: Deployment,
  network: ChainSigner,
  programId: bigint,
  auditors: readonly Address[],
): Promise<void> {
  const { rounds } = contractsFor(deployment, network);
  await mined(network.reader, rounds.write.setInputAuditors([programId, [...auditors]]));
}

/**
 * Publishes the base model, the validation set, its factor R (for contributors' submitted projections; d(d+1)/2
 * float64s) and the manifest; opens the round with the manifest's hash.
 */
export async function openRound(
  deployment: Deployment,
  network: ChainSigner,
  store: BlobStore,
  options: {
    programId: bigint;
    base: LinearModel;
    validation: Dataset;
    commitPeriod: number;
    /** Seconds contributors have to reveal after the commit deadline. */
    revealWindow: number;
    disputeWindow: number;
    /** Default `"private"`: the release record carries only Σφ. */
    scoreRelease?: ScoreRelease;
    /** Default true: publish R so contributors can submit their projection R·w (false: models only, as before). */
    projectionFactor?: boolean;
  },
): Promise<{ roundId: bigint; manifestHash: Hex }> {
  const manifest: RoundManifest = {
    kind: "ciphershare.round",
    version: 1,
    baseModel: await store.put(encodeModel(options.base)),
    validation: await store.put(encodeDataset(options.validation)),
    parameterSet: ROUND_PARAMETER_SET_ID,
    dimension: options.base.dimension,
    classes: options.base.classes,
    ...(options.scoreRelease === "public" ? { scoreRelease: "public" as const } : {}),
    ...(options.projectionFactor === false
      ? {}
      : { projectionFactor: await store.put(encodeProjectionFactor(validationFactor(options.validation))) }),
  };
  // Refuse here what every role would refuse later: a model that does not fit the round's parameter set.
  roundConfig(manifest, ValuationMethod.ExactShapley);
  const { rounds } = contractsFor(deployment, network);
  if (!(await rounds.read.isProgramActive([options.programId]))) {
    throw new NetworkError("The program's custodian has not accepted it yet: no round can open.", {
      details: `program ${options.programId}: \`ciphershare custodian accept --program ${options.programId}\``,
    });
  }
  const manifestHash = await store.put(encodeJsonRecord(manifest));
  const deadline = (await latestTimestamp(network.reader)) + BigInt(options.commitPeriod);
  await mined(
    network.reader,
    rounds.write.openRound([options.programId, manifestHash, deadline, options.revealWindow, options.disputeWindow]),
  );
  return { roundId: await rounds.read.roundCount(), manifestHash };
}

/** Mints (test ERC-20 only), wraps into the royalty token, and funds the round's pool with an encrypted amount. */
export async function fundPool(
  deployment: Deployment,
  funder: ChainSigner,
  fhevm: FhevmClient,
  roundId: bigint,
  amount: bigint,
  options: { mint?: boolean } = {},
): Promise<void> {
  const { underlying, token, distributor } = contractsFor(deployment, funder);
  const send = (sent: Promise<Hex>) => mined(funder.reader, sent);
  if (options.mint ?? true) await send(underlying.write.mint([funder.address, amount]));
  await send(underlying.write.approve([deployment.token, amount]));
  await send(token.write.wrap([funder.address, amount]));
  const until = (await latestTimestamp(funder.reader)) + 3600n;
  await send(token.write.setOperator([deployment.distributor, Number(until)]));
  const encrypted = await fhevm.encryptUint64(deployment.distributor, funder.address, [amount]);
  await send(distributor.write.fundPool([roundId, encrypted.handles[0], encrypted.inputProof]));
}

/** Closes a round after its reveal deadline: Closed, or Cancelled when fewer than the minimum revealed. */
export function closeRound(deployment: Deployment, caller: ChainSigner, roundId: bigint): Promise<RoundOutcome> {
  return lifecycleCall(deployment, caller, roundId, (rounds) => rounds.write.closeRound([roundId]));
}

/** Finalizes a round after its dispute window: Finalized, or Cancelled when it included fewer than the minimum. */
export function finalizeRound(deployment: Deployment, caller: ChainSigner, roundId: bigint): Promise<RoundOutcome> {
  return lifecycleCall(deployment, caller, roundId, (rounds) => rounds.write.finalizeRound([roundId]));
}

/** Cancels a round nobody finalized by its `expiresAt` (anyone may). */
export function expireRound(deployment: Deployment, caller: ChainSigner, roundId: bigint): Promise<RoundOutcome> {
  return lifecycleCall(deployment, caller, roundId, (rounds) => rounds.write.expireRound([roundId]));
}

/**
 * The network's ruling on a challenge: upheld discards the standing publication (the round is Closed again and the
 * coprocessor publishes anew), rejected restores it with its original dispute deadline.
 */
export function resolveChallenge(
  deployment: Deployment,
  network: ChainSigner,
  roundId: bigint,
  upheld: boolean,
): Promise<RoundOutcome> {
  return lifecycleCall(deployment, network, roundId, (rounds) => rounds.write.resolveChallenge([roundId, upheld]));
}

/**
 * Takes back the unallocated pool (to the network): all of it for a cancelled round, the remainder after a completed
 * settlement, what accepted batches left once the settlement deadline passed. Returns the recovered amount, which
 * is publicly decryptable.
 */
export async function recoverPool(
  deployment: Deployment,
  network: ChainSigner,
  fhevm: FhevmClient,
  roundId: bigint,
): Promise<bigint> {
  const { distributor } = contractsFor(deployment, network);
  // The recovered amount is the unallocated handle as it stood; recovery makes that handle publicly decryptable.
  const handle = await distributor.read.unallocatedOf([roundId]);
  await mined(network.reader, distributor.write.recoverPool([roundId]));
  return publicUint64(fhevm, handle);
}

/** Collects the deposits a concluded round forfeited (unrevealed, duplicate, excluded); returns count and wei. */
export async function collectForfeitedDeposits(
  deployment: Deployment,
  network: ChainSigner,
  roundId: bigint,
): Promise<{ count: number; amount: bigint }> {
  const { rounds } = contractsFor(deployment, network);
  const receipt = await mined(network.reader, rounds.write.collectForfeitedDeposits([roundId]));
  const [collected] = parseEventLogs({
    abi: roundManagerAbi,
    logs: receipt.logs,
    eventName: "ForfeitedDepositsCollected",
  });
  return { count: Number(collected?.args.count ?? 0n), amount: collected?.args.amount ?? 0n };
}

/** Where a round stands after a lifecycle call: its phase and, when cancelled, why. */
export interface RoundOutcome {
  readonly phase: string;
  readonly cancelReason?: string;
}

/** Sends one round lifecycle transaction and reports where the round stands once it is mined. */
async function lifecycleCall(
  deployment: Deployment,
  caller: ChainSigner,
  roundId: bigint,
  send: (rounds: ReturnType<typeof contractsFor>["rounds"]) => Promise<Hex>,
): Promise<RoundOutcome> {
  await mined(caller.reader, send(contractsFor(deployment, caller).rounds));
  const round = await readRound(deployment, caller.reader, roundId);
  return {
    phase: ROUND_PHASE_NAMES[round.phase],
    ...(round.phase === RoundPhase.Cancelled ? { cancelReason: CANCEL_REASON_NAMES[round.cancelReason] } : {}),
  };
}

/** A publicly decryptable euint64 (a pool, a recovered amount) in clear. */
export async function publicUint64(fhevm: FhevmClient, handle: Hex): Promise<bigint> {
  if (BigInt(handle) === 0n) return 0n;
  const value = (await fhevm.publicDecrypt([handle])).clearValues[handle];
  if (typeof value !== "bigint") {
    throw new NetworkError("A public handle did not decrypt to an amount.", { details: `${handle}: ${String(value)}` });
  }
  return value;
}
