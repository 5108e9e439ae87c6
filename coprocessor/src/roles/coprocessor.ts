// The coprocessor role: for each closed round of its program, fetch every committed blob, verify it against its
// on-chain hash and the program's rules (excluding, with a reason, what fails), run FedAvg and encrypted Shapley on
// the included envelopes, publish the output blobs and their hashes on-chain. Every step is journaled in SQLite, so
// a process killed at any point resumes without repeating an on-chain step. It never holds a secret key.
import { encodeFunctionData, zeroHash } from "viem";
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { ExclusionReason, RoundPhase, type ExclusionReasonCode } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { EnvelopeError, EnvelopeKind, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { describeTensors, sameTensorLayout, type TensorSpec } from "@ciphershare/protocol/formats/model-update";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameAddress, type Address, type Hex } from "@ciphershare/protocol/hex";
import { decodeDataset } from "@ciphershare/protocol/records/dataset";
import { decodeModel } from "@ciphershare/protocol/records/model";
import { decodeRoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { roundConfig, type RoundConfig } from "@ciphershare/protocol/round/config";
import { inputsHash, type CommittedContribution } from "@ciphershare/protocol/round/inputs";
import type { ChainSigner } from "../chain/clients";
import { readProgram, readRound } from "../chain/contracts";
import { readClosedRounds, readCommitments } from "../chain/events";
import { signerTransactionDriver } from "../chain/transactionDriver";
import { runOnChainStep, runStep } from "../state/journal";
import type { StateStore } from "../state/store";
import { BlobIntegrityError, BlobNotFoundError, type BlobStore } from "../storage/blob-store";
import { BlobServerError } from "../storage/http-client";
import { computeAggregate, computeScores } from "./computation";

/** Policy: a contribution claiming more samples than this is excluded (FedAvg weights are public claims). */
export const MAX_SAMPLES_PER_CONTRIBUTION = 100_000;

export type InputVerdict =
  | { readonly included: true; readonly envelope: Uint8Array }
  | { readonly included: false; readonly reason: ExclusionReasonCode; readonly detail: string };

export interface InputRules {
  readonly parameterSetId: string;
  readonly publicBundleHash: Hex;
  /** The tensor manifest every contribution must carry (names and shapes): the round config's `tensors`. */
  readonly tensors: readonly TensorSpec[];
}

/** The rules a round's inputs are checked by: its configuration under its program's bundle. */
export function inputRules(config: RoundConfig, publicBundleHash: Hex): InputRules {
  return { parameterSetId: config.parameterSet.id, publicBundleHash, tensors: config.tensors };
}

/**
 * Decides whether one commitment enters the round (pure apart from the blob read): its blob must exist (else
 * BlobMissing), hash to the committed value (HashMismatch), be a well-formed contribution envelope under the
 * program's bundle with the model's shape (Malformed), and claim a sample count within policy (Policy).
 */
export async function checkContribution(
  store: BlobStore,
  commitment: Pick<CommittedContribution, "ciphertextHash" | "sampleCount">,
  rules: InputRules,
): Promise<InputVerdict> {
  if (commitment.sampleCount < 1 || commitment.sampleCount > MAX_SAMPLES_PER_CONTRIBUTION) {
    return {
      included: false,
      reason: ExclusionReason.Policy,
      detail: `sample count ${commitment.sampleCount} outside 1…${MAX_SAMPLES_PER_CONTRIBUTION}`,
    };
  }
  let bytes: Uint8Array;
  try {
    bytes = await store.get(commitment.ciphertextHash);
  } catch (error) {
    if (error instanceof BlobNotFoundError) {
      return { included: false, reason: ExclusionReason.BlobMissing, detail: "no blob under the hash" };
    }
    if (error instanceof BlobIntegrityError || error instanceof BlobServerError) {
      return {
        included: false,
        reason: ExclusionReason.HashMismatch,
        detail: "stored bytes do not hash to the commitment",
      };
    }
    throw error;
  }
  try {
    const envelope = await parseEnvelope(bytes, {
      kind: EnvelopeKind.Contribution,
      parameterSetId: rules.parameterSetId,
      publicBundleHash: rules.publicBundleHash,
    });
    if (!sameTensorLayout(envelope.header.tensors, rules.tensors)) {
      return {
        included: false,
        reason: ExclusionReason.Malformed,
        detail: `tensors ${describeTensors(envelope.header.tensors)}, the round's model is ${describeTensors(rules.tensors)}`,
      };
    }
  } catch (error) {
    if (error instanceof EnvelopeError) {
      return { included: false, reason: ExclusionReason.Malformed, detail: `envelope: ${error.problem}` };
    }
    throw error;
  }
  return { included: true, envelope: bytes };
}

export interface RoundInputs {
  readonly included: { contributor: Address; hash: Hex; sampleCount: number; uri: string }[];
  readonly exclusions: { contributor: Address; reason: ExclusionReasonCode; detail: string }[];
}

export interface CoprocessorOptions {
  readonly deployment: Deployment;
  readonly signer: ChainSigner;
  readonly state: StateStore;
  /** The store holding program-level blobs (bundle, manifests); contributions are read from their commitment URI. */
  readonly store: BlobStore;
  readonly storeForUri: (uri: string) => BlobStore;
  readonly workers?: number;
  readonly log?: (line: string) => void;
  readonly onProgress?: (round: number, phase: string, done: number, total: number) => void;
  /** Test hook: called at named points so a test can kill the process there. */
  readonly checkpoint?: (point: string) => void;
}

const NAMESPACE = "coprocessor";

/**
 * Rounds to work on, oldest first: first those with an unfinished journaled step (a crash left them half done —
 * e.g. a transaction broadcast but not yet recorded as confirmed, whose round may already show the results), then
 * the rounds that `RoundClosed` events announce, still Closed, of programs naming this wallet as coprocessor.
 */
export async function pendingRounds(options: CoprocessorOptions): Promise<bigint[]> {
  const { deployment, signer } = options;
  const pending: bigint[] = [...new Set(options.state.unfinishedSteps().map((step) => step.round))].map(BigInt);
  for (const id of await readClosedRounds(signer.reader, deployment)) {
    if (pending.includes(id)) continue;
    // A round closed long ago may have moved on (results published, finalized): only Closed rounds need work.
    const round = await readRound(deployment, signer.reader, id);
    if (round.phase !== RoundPhase.Closed) continue;
    const program = await readProgram(deployment, signer.reader, round.programId);
    if (sameAddress(program.coprocessor, signer.address)) pending.push(id);
  }
  return pending;
}

/** Processes one closed round to published results; safe to call again after a crash at any point. */
export async function processRound(options: CoprocessorOptions, roundId: bigint): Promise<RoundInputs> {
  const { state, signer, deployment } = options;
  const log = options.log ?? (() => {});
  const checkpoint = options.checkpoint ?? (() => {});
  const round = Number(roundId);
  const roundState = await readRound(deployment, signer.reader, roundId);
  const program = await readProgram(deployment, signer.reader, roundState.programId);
  const config = roundConfig(
    decodeRoundManifest(await options.store.get(roundState.manifestHash)),
    program.valuationMethod,
  );
  const rules = inputRules(config, program.publicKeyHash);

  const commitments = await readCommitments(signer.reader, deployment, roundId);
  const inputsKey = `round:${round}:inputs`;
  await runStep(state, { round, step: "verify-inputs" }, async () => {
    const inputs: RoundInputs = { included: [], exclusions: [] };
    for (const commitment of commitments) {
      const verdict = await checkContribution(options.storeForUri(commitment.uri), commitment, rules);
      if (verdict.included) {
        inputs.included.push({
          contributor: commitment.contributor,
          hash: commitment.ciphertextHash,
          sampleCount: commitment.sampleCount,
          uri: commitment.uri,
        });
      } else {
        log(`round ${round}: excluding ${commitment.contributor} (reason ${verdict.reason}: ${verdict.detail})`);
        inputs.exclusions.push({ contributor: commitment.contributor, reason: verdict.reason, detail: verdict.detail });
      }
    }
    state.setValue(NAMESPACE, inputsKey, inputs as never);
    return keccak256(new TextEncoder().encode(JSON.stringify(inputs)));
  });
  checkpoint("after-verify-inputs");
  const inputs = state.getValue(NAMESPACE, inputsKey) as unknown as RoundInputs;

  let aggregateHash: Hex = zeroHash;
  let scoresHash: Hex = aggregateHash;
  if (inputs.included.length > 0) {
    const computation = async (withBundle: boolean) => {
      const ctx = await CkksContext.create(config.parameterSet);
      const envelopes = await Promise.all(inputs.included.map((i) => options.storeForUri(i.uri).get(i.hash)));
      return {
        ctx,
        bundleBytes: withBundle ? await options.store.get(program.publicKeyHash) : new Uint8Array(),
        bundleHash: program.publicKeyHash,
        inputs: envelopes.map((envelope, k) => ({ envelope, sampleCount: inputs.included[k].sampleCount })),
        validation: decodeDataset(await options.store.get(config.validation)),
        base: decodeModel(await options.store.get(config.baseModel)),
        workers: options.workers,
        onProgress: (phase: string, done: number, total: number) => options.onProgress?.(round, phase, done, total),
      };
    };
    const aggregate = await runStep(state, { round, step: "fedavg" }, async () => {
      const input = await computation(false);
      try {
        return await options.store.put(await computeAggregate(input));
      } finally {
        input.ctx.dispose();
      }
    });
    aggregateHash = aggregate.outputHash as Hex;
    checkpoint("after-fedavg");
    const scores = await runStep(state, { round, step: "shapley" }, async () => {
      const input = await computation(true);
      try {
        return await options.store.put(await computeScores(input));
      } finally {
        input.ctx.dispose();
      }
    });
    scoresHash = scores.outputHash as Hex;
    checkpoint("after-shapley");
  }

  const committedInputs = await inputsHash(inputs.included.map((i) => ({ ciphertextHash: i.hash })));
  const driver = signerTransactionDriver(signer, async () => ({
    to: deployment.rounds,
    data: encodeFunctionData({
      abi: roundManagerAbi,
      functionName: "publishResults",
      args: [
        roundId,
        aggregateHash,
        scoresHash,
        committedInputs,
        inputs.exclusions.map((e) => ({ contributor: e.contributor, reason: e.reason })),
      ],
    }),
  }));
  await runOnChainStep(
    state,
    { round, step: "publish-results" },
    {
      ...driver,
      broadcast: async (raw) => {
        checkpoint("before-broadcast-publish");
        await driver.broadcast(raw);
        checkpoint("after-broadcast-publish");
      },
    },
  );
  log(`round ${round}: published results (${inputs.included.length} included, ${inputs.exclusions.length} excluded)`);
  return inputs;
}
