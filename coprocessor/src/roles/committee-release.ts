// A committee round's release, as anyone can redo it: the decrypting set's published partial decryptions of the two
// outputs, combined deterministically (threshold/combine.ts) into the new global model and φ, and the release record
// built from them. Every member of the set runs this to decide what it approves; an auditor runs it to check the
// anchored record. Nothing here holds a key share.
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { CipherShareError } from "@ciphershare/protocol/errors";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { decodeDataset, type Dataset } from "@ciphershare/protocol/records/dataset";
import { decodeModel, encodeModel, type LinearModel } from "@ciphershare/protocol/records/model";
import { releasedScores, type ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { decodeRoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { ROUND_MODEL_NORM_BOUND, roundConfig, type RoundConfig } from "@ciphershare/protocol/round/config";
import { includedContributions } from "@ciphershare/protocol/round/inputs";
import type { ChainReader } from "../chain/clients";
import { readProgram, readRound, type RoundState } from "../chain/contracts";
import { readCommitments, readReasons } from "../chain/events";
import { scoresFromRelease } from "../shapley/encrypted/release";
import type { ValidationKernel } from "../shapley/gram";
import { squaredErrorUtility } from "../shapley/utility";
import type { BlobStore } from "../storage/blob-store";
import { combinePartialDecryptions } from "../threshold/combine";
import { releasedNoiseStd } from "../threshold/flooding";
import { parsePartialDecryption } from "../threshold/partial-decryption";
import { aggregateRelease, scoresRelease, type OutputRelease } from "../threshold/release-bounds";
import { roundCoefficientMap, roundKernel } from "./computation";

export class CommitteeReleaseError extends CipherShareError {
  override name = "CommitteeReleaseError";
}

/** What a round's release is computed from: all public (chain and store). */
export interface RoundReleaseInputs {
  readonly round: RoundState;
  readonly config: RoundConfig;
  /** The standing publication's included contributors, in commit order. */
  readonly contributors: readonly Address[];
  readonly sampleCounts: readonly number[];
  readonly base: LinearModel;
  readonly validation: Dataset;
  readonly kernel: ValidationKernel;
}

/** Reads what a finalized round's release depends on. */
export async function readRoundReleaseInputs(
  deployment: Deployment,
  reader: ChainReader,
  store: BlobStore,
  roundId: bigint,
): Promise<RoundReleaseInputs> {
  const round = await readRound(deployment, reader, roundId);
  const program = await readProgram(deployment, reader, round.programId);
  const config = roundConfig(decodeRoundManifest(await store.get(round.manifestHash)), program.valuationMethod);
  const commitments = await readCommitments(reader, deployment, roundId);
  const reasons = await readReasons(reader, deployment, roundId, round.publication, commitments.length);
  const included = includedContributions(commitments, reasons);
  const base = decodeModel(await store.get(config.baseModel));
  const validation = decodeDataset(await store.get(config.validation));
  return {
    round,
    config,
    contributors: included.map((c) => c.contributor),
    sampleCounts: included.map((c) => c.sampleCount),
    base,
    validation,
    kernel: roundKernel(validation, base),
  };
}

/** The two outputs' flooding bounds and ranges, from public round data only: [aggregate, scores]. */
export function roundOutputReleases(ctx: CkksContext, inputs: RoundReleaseInputs): [OutputRelease, OutputRelease] {
  return [
    aggregateRelease(ctx, inputs.sampleCounts, ROUND_MODEL_NORM_BOUND),
    scoresRelease(ctx, inputs.kernel, roundCoefficientMap(inputs.sampleCounts, inputs.kernel), ROUND_MODEL_NORM_BOUND),
  ];
}

/** One output's envelope and the decrypting set's partial decryptions of it (blob bytes). */
export interface OutputPartials {
  readonly envelope: Uint8Array;
  readonly partials: readonly Uint8Array[];
}

/** A combined output, as the lone custodian's `ReleasedOutput` describes it. */
export interface CombinedOutput {
  readonly values: Float64Array;
  readonly tensors: readonly TensorSpec[];
  readonly valueScale: number;
  /** Standard deviation the set's flooding adds to each released slot (before `valueScale`). */
  readonly floodingSigma: number;
}

/**
 * Combines one output: c0 + Σ d_i over the set, decoded, range-checked against `release.maxAbs` (plus what the
 * flooding itself may add). Deterministic: the same blobs give the same values, in any order.
 */
export async function combineOutput(
  ctx: CkksContext,
  output: OutputPartials,
  release: OutputRelease,
): Promise<CombinedOutput> {
  const parsed = output.partials.map((bytes) => parsePartialDecryption(ctx, bytes));
  if (parsed.length === 0) throw new CommitteeReleaseError("No partial decryptions to combine.");
  const { scale, valueExponent } = (await parseEnvelope(output.envelope)).header;
  const sigma = Math.max(...parsed.map((p) => p.sigma));
  const floodingSigma = releasedNoiseStd(sigma, parsed.length, ctx.parameterSet.polyModulusDegree, scale);
  const combined = await combinePartialDecryptions(ctx, output.envelope, parsed, {
    maxAbs: release.maxAbs + 8 * floodingSigma,
  });
  return { values: combined.values, tensors: combined.tensors, valueScale: 2 ** valueExponent, floodingSigma };
}

/**
 * The round's release from the set's partials of [aggregate, scores]: publishes the new global model and returns the
 * release record (what the set approves and the committee anchors) and φ in the contributors' order.
 */
export async function combineRoundRelease(
  ctx: CkksContext,
  store: BlobStore,
  inputs: RoundReleaseInputs,
  outputs: readonly [OutputPartials, OutputPartials],
): Promise<{ record: ReleaseRecord; phi: number[] }> {
  const [aggregateBound, scoresBound] = roundOutputReleases(ctx, inputs);
  const aggregate = await combineOutput(ctx, outputs[0], aggregateBound);
  const scores = await combineOutput(ctx, outputs[1], scoresBound);
  const { base, round, contributors } = inputs;
  const globalModel = await store.put(
    encodeModel({
      weights: aggregate.values.slice(0, base.weights.length),
      dimension: base.dimension,
      classes: base.classes,
    }),
  );
  const { phi } = scoresFromRelease(scores, contributors.length);
  const record: ReleaseRecord = {
    kind: "ciphershare.release",
    version: 1,
    round: Number(round.id),
    aggregate: round.aggregateHash,
    scores: round.scoresHash,
    globalModel,
    contributors: [...contributors],
    utilityEmpty: squaredErrorUtility(base, inputs.validation),
    floodingSigma: aggregate.floodingSigma,
    ...releasedScores(inputs.config.scoreRelease, contributors, phi),
  };
  return { record, phi };
}

/** Fetches the set's partial blobs of both outputs (`shareHashes[m]` = member m's [aggregate, scores] hashes). */
export async function fetchRoundPartials(
  store: BlobStore,
  round: Pick<RoundState, "aggregateHash" | "scoresHash">,
  shareHashes: readonly (readonly Hex[])[],
): Promise<[OutputPartials, OutputPartials]> {
  const output = async (index: 0 | 1, envelopeHash: Hex): Promise<OutputPartials> => ({
    envelope: await store.get(envelopeHash),
    partials: await Promise.all(shareHashes.map((hashes) => store.get(hashes[index]))),
  });
  return [await output(0, round.aggregateHash), await output(1, round.scoresHash)];
}
