// The coprocessor role: for each closed round of its program, take the chain's verdicts on sealed (Unrevealed) and
// Duplicate commitments, fetch every revealed blob from the URI its reveal names, verify it against its revealed
// hash and the program's rules (excluding, with a reason, what fails), run FedAvg and encrypted Shapley on the
// included envelopes, publish the output blobs and, on-chain, their hashes with one reason byte per commitment.
// Each publication of a round is journaled separately in SQLite (an upheld challenge returns the round to Closed and
// the next publication runs its own steps), so a process killed at any point resumes without repeating an on-chain
// step. It never holds a secret key.
import { encodeFunctionData, zeroHash } from "viem";
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import {
  CommitmentStatus,
  EXCLUSION_REASON_NAMES,
  ExclusionReason,
  RoundPhase,
  type ExclusionReasonCode,
  type VerifiedExclusionCode,
} from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  contributionEnvelopeBytes,
  EnvelopeError,
  EnvelopeKind,
  parseEnvelope,
} from "@ciphershare/protocol/ckks/envelope";
import { getParameterSet } from "@ciphershare/protocol/ckks/params";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { describeTensors, sameTensorLayout, type TensorSpec } from "@ciphershare/protocol/formats/model-update";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { bytesToHex, sameAddress, type Address, type Hex } from "@ciphershare/protocol/hex";
import { decodeDataset } from "@ciphershare/protocol/records/dataset";
import { decodeModel } from "@ciphershare/protocol/records/model";
import { decodeRoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { roundConfig, type RoundConfig } from "@ciphershare/protocol/round/config";
import { projectionTensors } from "@ciphershare/protocol/round/contribution";
import { inputsHash, publicationReasons, type RoundCommitment } from "@ciphershare/protocol/round/inputs";
import type { ChainSigner } from "../chain/clients";
import { readProgram, readRound } from "../chain/contracts";
import { readClosedRounds, readCommitments } from "../chain/events";
import { isUsageProgram } from "../chain/usage-terms";
import { signerTransactionDriver } from "../chain/transactionDriver";
import { parsePublicationStep, publicationStep, runOnChainStep, runStep } from "../state/journal";
import type { StateStore } from "../state/store";
import {
  BlobIntegrityError,
  BlobNotFoundError,
  BlobTooLargeError,
  type BlobFetchLimits,
  type BlobStore,
  type StoreForUri,
} from "../storage/blob-store";
import { BlobTimeoutError } from "../storage/http-client";
import { BlobAccessDeniedError } from "../storage/blob-access";
import { computeAggregate, computeScores } from "./computation";
import type { WorkIsolation } from "./isolation";
import { readBundleBytes } from "../storage/key-bundle";
import { queueBackend } from "../queue/backend";
import { readGrantIssuer, type ReadGrantIssuer } from "../queue/grants";
import { blobAccessDomain } from "./input-requests";
import type { ValuationBackend } from "../shapley/encrypted/backend";

/** Policy: a contribution claiming more samples than this is excluded (FedAvg weights are public claims). */
export const MAX_SAMPLES_PER_CONTRIBUTION = 100_000;

export type InputVerdict =
  | { readonly included: true; readonly envelope: Uint8Array }
  | {
      readonly included: false;
      readonly reason: VerifiedExclusionCode;
      readonly detail: string;
      /** The store refused this reader (a round's inputs go only to its computing parties and named auditors). */
      readonly accessDenied?: boolean;
    };

export interface InputRules {
  readonly parameterSetId: string;
  readonly publicBundleHash: Hex;
  /** The tensor manifest every contribution must carry (names and shapes): the round config's `tensors`. */
  readonly tensors: readonly TensorSpec[];
  /**
   * The manifest of a contribution that also carries its projection R·w (`round/contribution.ts`, layout 2), accepted
   * besides `tensors` when the round published R; absent: models only.
   */
  readonly projectionTensors?: readonly TensorSpec[];
}

/** The rules a round's inputs are checked by: its configuration under its program's bundle. */
export function inputRules(config: RoundConfig, publicBundleHash: Hex): InputRules {
  return {
    parameterSetId: config.parameterSet.id,
    publicBundleHash,
    tensors: config.tensors,
    ...(config.projectionFactor === undefined ? {} : { projectionTensors: projectionTensors(config) }),
  };
}

/**
 * Decides whether one commitment enters the round (pure apart from the blob read): its blob must exist (else
 * BlobMissing), hash to the committed value (HashMismatch), be a well-formed contribution envelope under the
 * program's bundle with the model's shape (Malformed), and claim a sample count within policy (Policy).
 */
export async function checkContribution(
  store: BlobStore,
  commitment: Pick<RoundCommitment, "ciphertextHash" | "sampleCount">,
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
    return fetchFailure(error, rules);
  }
  try {
    const envelope = await parseEnvelope(bytes, {
      kind: EnvelopeKind.Contribution,
      parameterSetId: rules.parameterSetId,
      publicBundleHash: rules.publicBundleHash,
    });
    const layouts = [rules.tensors, ...(rules.projectionTensors ? [rules.projectionTensors] : [])];
    if (!layouts.some((tensors) => sameTensorLayout(envelope.header.tensors, tensors))) {
      return {
        included: false,
        reason: ExclusionReason.Malformed,
        detail: `tensors ${describeTensors(envelope.header.tensors)}, the round's model is ${describeTensors(rules.tensors)}${
          rules.projectionTensors ? ` (or with its projection: ${describeTensors(rules.projectionTensors)})` : ""
        }`,
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

/**
 * Why a fetch of a contribution failed, as an exclusion (never an exception: the URI is the contributor's choice):
 * no blob, a store that fails, cuts the connection or does not answer in time → BlobMissing; bytes that do not hash
 * to the commitment → HashMismatch; more bytes than a contribution envelope of the round has → Malformed.
 */
export function fetchFailure(error: unknown, rules: InputRules): Extract<InputVerdict, { included: false }> {
  const message =
    error instanceof CipherShareError
      ? `${error.shortMessage}${error.details === undefined ? "" : ` (${error.details})`}`
      : error instanceof Error
        ? error.message
        : String(error);
  if (error instanceof BlobIntegrityError) {
    return {
      included: false,
      reason: ExclusionReason.HashMismatch,
      detail: "stored bytes do not hash to the commitment",
    };
  }
  if (error instanceof BlobTooLargeError) {
    return {
      included: false,
      reason: ExclusionReason.Malformed,
      detail: `larger than a contribution envelope of the round (${expectedEnvelopeBytes(rules)} bytes): ${message}`,
    };
  }
  if (error instanceof BlobAccessDeniedError) {
    return {
      included: false,
      reason: ExclusionReason.BlobMissing,
      detail: `the store refused to serve it to this reader: ${message}`,
      accessDenied: true,
    };
  }
  if (error instanceof BlobNotFoundError) {
    return { included: false, reason: ExclusionReason.BlobMissing, detail: "no blob under the hash" };
  }
  if (error instanceof BlobTimeoutError) {
    return {
      included: false,
      reason: ExclusionReason.BlobMissing,
      detail: `the store did not answer in time: ${message}`,
    };
  }
  return { included: false, reason: ExclusionReason.BlobMissing, detail: `the fetch failed: ${message}` };
}

/** The exact size of a contribution envelope under these rules: the cap of every contribution download. */
export function expectedEnvelopeBytes(rules: InputRules): number {
  return contributionEnvelopeBytes(getParameterSet(rules.parameterSetId), rules.projectionTensors ?? rules.tensors);
}

/** 60 s for one contribution (a few MB): a store that has not answered by then is not serving it. */
export const CONTRIBUTION_FETCH_TIMEOUT_MS = 60_000;

/** The limits of a contribution's download: exactly its envelope's size, within `timeoutMs`. */
export function contributionFetchLimits(
  rules: InputRules,
  timeoutMs: number = CONTRIBUTION_FETCH_TIMEOUT_MS,
): BlobFetchLimits {
  return { maxBlobBytes: expectedEnvelopeBytes(rules), timeoutMs };
}

export interface RoundInputs {
  readonly included: { index: number; contributor: Address; hash: Hex; sampleCount: number; uri: string }[];
  /** Every commitment left out, with its reason: the chain's (Unrevealed, Duplicate) and the coprocessor's. */
  readonly exclusions: { index: number; contributor: Address; reason: ExclusionReasonCode; detail: string }[];
  /** The publication's reason bytes, one per commitment in commit order (hex). */
  readonly reasons: Hex;
}

export interface CoprocessorOptions {
  readonly deployment: Deployment;
  readonly signer: ChainSigner;
  readonly state: StateStore;
  /** The store holding program-level blobs (bundle, manifests); contributions are read from their reveal's URI. */
  readonly store: BlobStore;
  readonly storeForUri: StoreForUri;
  /** Deadline of one contribution's download (default `CONTRIBUTION_FETCH_TIMEOUT_MS`). */
  readonly fetchTimeoutMs?: number;
  readonly workers?: number;
  /** redis://HOST:PORT: run the homomorphic jobs on BullMQ workers (`coprocessor worker`) instead of threads. */
  readonly queue?: string;
  readonly log?: (line: string) => void;
  readonly onProgress?: (round: number, phase: string, done: number, total: number) => void;
  /** Test hook: called at named points so a test can kill the process there. */
  readonly checkpoint?: (point: string) => void;
  /** Serve only these programs (default: every program naming this wallet as its coprocessor). */
  readonly programs?: readonly bigint[];
}

function queueFactory(
  options: CoprocessorOptions,
  bundleHash: Hex,
  round: bigint,
): (() => Promise<ValuationBackend>) | undefined {
  const queue = options.queue;
  return queue === undefined
    ? undefined
    : () => queueBackend({ queue, store: options.store, bundleHash, round, grants: grantIssuer(options, round) });
}

/** Read grants the coordinator signs, as the program's coprocessor, for its queue workers (queue/grants.ts). */
function grantIssuer(options: CoprocessorOptions, round: bigint): ReadGrantIssuer {
  return readGrantIssuer({
    account: options.signer.account,
    domain: blobAccessDomain(options.deployment),
    store: options.store,
    round,
  });
}

/** One publication of one round: the unit of the coprocessor's work (and of its journal). */
export interface PublicationWork {
  readonly roundId: bigint;
  readonly publication: number;
}

const NAMESPACE = "coprocessor";

/**
 * Work to do, oldest first: first the publications with an unfinished journaled step (a crash left them half done —
 * e.g. a transaction broadcast but not yet recorded as confirmed, whose round may already show the results), then
 * the rounds of programs naming this wallet as coprocessor that are Closed now (after `RoundClosed`, or again after
 * an upheld challenge), each for its next publication.
 */
export async function pendingRounds(options: CoprocessorOptions): Promise<PublicationWork[]> {
  const { deployment, signer } = options;
  const pending: PublicationWork[] = [];
  for (const step of options.state.unfinishedSteps()) {
    const publication = parsePublicationStep(step.step)?.publication;
    if (publication === undefined) continue;
    if (!pending.some((w) => w.roundId === BigInt(step.round) && w.publication === publication)) {
      pending.push({ roundId: BigInt(step.round), publication });
    }
  }
  for (const id of await readClosedRounds(signer.reader, deployment)) {
    if (pending.some((w) => w.roundId === id)) continue;
    // A round closed long ago may have moved on (results published, finalized): only Closed rounds need work.
    const round = await readRound(deployment, signer.reader, id);
    if (round.phase !== RoundPhase.Closed) continue;
    if (options.programs !== undefined && !options.programs.includes(round.programId)) continue;
    const program = await readProgram(deployment, signer.reader, round.programId);
    // A usage program's periods are served by the usage pass (roles/usage-daemon.ts).
    if (sameAddress(program.coprocessor, signer.address) && !(await isUsageProgram(deployment, signer.reader, round)))
      pending.push({ roundId: id, publication: round.publicationCount + 1 });
  }
  return pending;
}

/**
 * Decides every commitment of a round (pure apart from the blob reads): Sealed ones are Unrevealed and Duplicate ones
 * Duplicate, as the chain already decided; each revealed one is fetched from its reveal's URI and checked.
 */
export async function verifyInputs(
  commitments: readonly RoundCommitment[],
  rules: InputRules,
  storeForUri: StoreForUri,
  fetchTimeoutMs?: number,
  /** Called with each included envelope (the coprocessor keeps a copy, so later steps need no contributor store). */
  keep?: (envelope: Uint8Array) => Promise<void>,
): Promise<RoundInputs> {
  const limits = contributionFetchLimits(rules, fetchTimeoutMs);
  const included: RoundInputs["included"] = [];
  const exclusions: RoundInputs["exclusions"] = [];
  const verdicts = new Map<number, ExclusionReasonCode>();
  for (const commitment of commitments) {
    const { index, contributor } = commitment;
    if (commitment.status === CommitmentStatus.Sealed) {
      exclusions.push({ index, contributor, reason: ExclusionReason.Unrevealed, detail: "never revealed" });
      continue;
    }
    if (commitment.status === CommitmentStatus.Duplicate) {
      exclusions.push({ index, contributor, reason: ExclusionReason.Duplicate, detail: "hash revealed before" });
      continue;
    }
    const verdict = await checkContribution(storeForUri(commitment.uri, limits), commitment, rules);
    if (verdict.included) {
      await keep?.(verdict.envelope);
      included.push({
        index,
        contributor,
        hash: commitment.ciphertextHash,
        sampleCount: commitment.sampleCount,
        uri: commitment.uri,
      });
    } else {
      verdicts.set(index, verdict.reason);
      exclusions.push({ index, contributor, reason: verdict.reason, detail: verdict.detail });
    }
  }
  return { included, exclusions, reasons: bytesToHex(publicationReasons(commitments, verdicts)) };
}

/**
 * Processes one closed round to published results as publication `publication` (default: the round's next one);
 * safe to call again after a crash at any point.
 */
export async function processRound(
  options: CoprocessorOptions,
  roundId: bigint,
  publication?: number,
): Promise<RoundInputs> {
  const { state, signer, deployment } = options;
  const log = options.log ?? (() => {});
  const checkpoint = options.checkpoint ?? (() => {});
  const round = Number(roundId);
  const roundState = await readRound(deployment, signer.reader, roundId);
  const number = publication ?? roundState.publicationCount + 1;
  const step = (name: string) => ({ round, step: publicationStep(number, name) });
  const program = await readProgram(deployment, signer.reader, roundState.programId);
  const config = roundConfig(
    decodeRoundManifest(await options.store.get(roundState.manifestHash)),
    program.valuationMethod,
  );
  const rules = inputRules(config, program.publicKeyHash);

  const inputsKey = `round:${round}:publication:${number}:inputs`;
  await runStep(state, step("verify-inputs"), async () => {
    const commitments = await readCommitments(signer.reader, deployment, roundId);
    const inputs = await verifyInputs(
      commitments,
      rules,
      options.storeForUri,
      options.fetchTimeoutMs,
      async (bytes) => {
        await options.store.put(bytes, { round: roundId });
      },
    );
    for (const e of inputs.exclusions) {
      log(`round ${round}: excluding #${e.index} ${e.contributor} (${EXCLUSION_REASON_NAMES[e.reason]}: ${e.detail})`);
    }
    state.setValue(NAMESPACE, inputsKey, inputs as never);
    return keccak256(new TextEncoder().encode(JSON.stringify(inputs)));
  });
  checkpoint("after-verify-inputs");
  const inputs = state.getValue(NAMESPACE, inputsKey) as unknown as RoundInputs;

  let aggregateHash: Hex = zeroHash;
  let scoresHash: Hex = aggregateHash;
  // Below the program's minimum the round will be cancelled at finalization whatever it publishes: no outputs, so
  // nothing of a thin crowd is ever computed for decryption.
  if (inputs.included.length >= Math.max(1, roundState.minContributors)) {
    const computation = async (withBundle: boolean) => {
      const ctx = await CkksContext.create(config.parameterSet);
      const envelopes = await Promise.all(inputs.included.map((i) => includedEnvelope(options, rules, i)));
      return {
        ctx,
        // Queue workers load the evaluation keys themselves, by hash.
        bundleBytes:
          withBundle && !options.queue ? await readBundleBytes(options.store, program.publicKeyHash) : new Uint8Array(),
        bundleHash: program.publicKeyHash,
        backend: queueFactory(options, program.publicKeyHash, roundId),
        fedAvgQueue:
          options.queue === undefined
            ? undefined
            : { queue: options.queue, store: options.store, round: roundId, grants: grantIssuer(options, roundId) },
        inputs: envelopes.map((envelope, k) => ({ envelope, sampleCount: inputs.included[k].sampleCount })),
        validation: decodeDataset(await options.store.get(config.validation)),
        base: decodeModel(await options.store.get(config.baseModel)),
        workers: options.workers,
        onProgress: (phase: string, done: number, total: number) => options.onProgress?.(round, phase, done, total),
      };
    };
    const aggregate = await runStep(state, step("fedavg"), async () => {
      const input = await computation(false);
      try {
        return await options.store.put(await computeAggregate(input));
      } finally {
        input.ctx.dispose();
      }
    });
    aggregateHash = aggregate.outputHash as Hex;
    checkpoint("after-fedavg");
    const scores = await runStep(state, step("shapley"), async () => {
      const input = await computation(true);
      try {
        return await options.store.put(await computeScores(input));
      } finally {
        input.ctx.dispose();
      }
    });
    scoresHash = scores.outputHash as Hex;
    checkpoint("after-shapley");
  } else {
    log(
      `round ${round}: ${inputs.included.length} included, below the program's minimum of ${roundState.minContributors}: publishing no outputs`,
    );
  }

  const committedInputs = await inputsHash(inputs.included.map((i) => ({ ciphertextHash: i.hash })));
  const driver = signerTransactionDriver(signer, async () => ({
    to: deployment.rounds,
    data: encodeFunctionData({
      abi: roundManagerAbi,
      functionName: "publishResults",
      args: [roundId, aggregateHash, scoresHash, committedInputs, inputs.reasons],
    }),
  }));
  await runOnChainStep(state, step("publish-results"), {
    ...driver,
    broadcast: async (raw) => {
      checkpoint("before-broadcast-publish");
      await driver.broadcast(raw);
      checkpoint("after-broadcast-publish");
    },
  });
  log(
    `round ${round}: published results as publication ${number} (${inputs.included.length} included, ${inputs.exclusions.length} excluded)`,
  );
  return inputs;
}

/** What one pass over the pending work did: each publication processed, failed (with its reason) or deferred. */
export interface CoprocessorPass {
  readonly processed: PublicationWork[];
  readonly failed: (PublicationWork & { readonly reason: string; readonly attempts: number })[];
  /** Failed before and not due for another attempt yet. */
  readonly deferred: PublicationWork[];
}

/**
 * One pass over the pending publications, each in isolation (`WorkIsolation`): a round that fails — a missing
 * manifest, an unreadable base model, a computation that throws — is recorded in the journal's settings with its
 * reason and retried after a delay, and the pass goes on with the next round (of this or another program).
 */
export async function coprocessorPass(options: CoprocessorOptions, isolation: WorkIsolation): Promise<CoprocessorPass> {
  const log = options.log ?? (() => {});
  const pass: {
    processed: PublicationWork[];
    failed: CoprocessorPass["failed"][number][];
    deferred: PublicationWork[];
  } = { processed: [], failed: [], deferred: [] };
  for (const work of await pendingRounds(options)) {
    if (isolation.failureOf(publicationWorkKey(work)) === undefined)
      log(`round ${work.roundId}: processing publication ${work.publication}`);
    const outcome = await isolation.run(publicationWorkKey(work), () =>
      processRound(options, work.roundId, work.publication),
    );
    if (outcome.status === "done") pass.processed.push(work);
    else if (outcome.status === "deferred") pass.deferred.push(work);
    else {
      const { reason, attempts } = outcome.failure;
      log(`round ${work.roundId}: publication ${work.publication} failed (attempt ${attempts}): ${reason}; moving on`);
      pass.failed.push({ ...work, reason, attempts });
    }
  }
  return pass;
}

/** The isolation key of one publication of one round. */
export function publicationWorkKey(work: PublicationWork): string {
  return `round:${work.roundId}:publication:${work.publication}`;
}

/**
 * An included envelope for the computation: the copy the coprocessor kept at verification, else (a journal from
 * before it kept copies) a fresh fetch from the reveal's URI within the round's limits.
 */
async function includedEnvelope(
  options: CoprocessorOptions,
  rules: InputRules,
  input: RoundInputs["included"][number],
): Promise<Uint8Array> {
  try {
    return await options.store.get(input.hash);
  } catch (error) {
    if (!(error instanceof BlobNotFoundError)) throw error;
    return options.storeForUri(input.uri, contributionFetchLimits(rules, options.fetchTimeoutMs)).get(input.hash);
  }
}
