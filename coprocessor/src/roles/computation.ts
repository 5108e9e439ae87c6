// The round's deterministic computation, shared by the coprocessor (which publishes its output hashes) and the
// auditor (which re-runs it from the same public inputs and must get byte-identical outputs): encrypted FedAvg of
// the included envelopes and encrypted exact Shapley values of the same envelopes, both under the program's bundle.
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  envelopeCommitment,
  EnvelopeKind,
  parseEnvelope,
  type ParsedEnvelope,
} from "@ciphershare/protocol/ckks/envelope";
import { modelEnvelope, ROUND_PROJECTION_TENSOR, roundContribution } from "@ciphershare/protocol/round/contribution";
import { ROUND_MODEL_NORM_BOUND } from "@ciphershare/protocol/round/config";
import type { KeyGenerationOptions } from "@ciphershare/protocol/ckks/keys";
import type { Hex } from "@ciphershare/protocol/hex";
import { oneHotLabels, type Dataset } from "@ciphershare/protocol/records/dataset";
import type { LinearModel } from "@ciphershare/protocol/records/model";
import type { ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { fedAvgEncrypted } from "../fedavg/homomorphic";
import { queueFedAvg, type QueueFedAvgOptions } from "../queue/fedavg";
import { matrix, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import {
  coefficientStandardError,
  exactCoefficientMap,
  MAX_EXACT_CLIENTS,
  sampledCoefficientMap,
  type CoefficientMap,
} from "../shapley/coefficients";
import type { ValuationBackend } from "../shapley/encrypted/backend";
import { shapleyGaloisSteps, type ProjectionKeyProfile } from "../shapley/encrypted/key-profile";
import { matvecPlan } from "../shapley/encrypted/layout";
import { consistencyTolerance, projectionChallenge } from "../shapley/encrypted/consistency";
import { computeEncryptedScores, inconsistentProjections } from "../shapley/encrypted/pipeline";
import { residualEnvelope, scoreEnvelope } from "../shapley/encrypted/release";
import { consistencyRelease } from "../threshold/release-bounds";
import type { OutputRelease } from "../threshold/release-bounds";
import { validationKernel, type ValidationKernel } from "../shapley/gram";

export function modelMatrix(model: LinearModel): Matrix {
  return matrix(model.dimension, model.classes, model.weights);
}

export function validationMatrices(data: Dataset): { x: Matrix; y: Matrix } {
  return {
    x: matrix(data.size, data.dimension, data.features),
    y: matrix(data.size, data.classes, oneHotLabels(data)),
  };
}

export function roundKernel(validation: Dataset, base: LinearModel): ValidationKernel {
  const { x, y } = validationMatrices(validation);
  return validationKernel(x, y, modelMatrix(base));
}

/**
 * The sampling of a round above the exact limit: public constants (permutations, batches, seed), so the coprocessor,
 * the custodian and the auditor draw the same permutations and get the same map bit for bit.
 */
export const ROUND_SAMPLING = Object.freeze({ permutations: 2000, batches: 10, seed: 0x5eed });

/**
 * The Shapley coefficient map of a round over the included sample counts: exact (the program's valuation method 1,
 * by the integral form) up to `exactLimit` = `MAX_EXACT_CLIENTS` (300) contributions; above it, permutation sampling
 * with `ROUND_SAMPLING`, whose standard error the custodian reports in the release record (`roundValuation`).
 * Deterministic either way, so the auditor re-derives the same masks bit for bit.
 */
export function roundCoefficientMap(
  sampleCounts: readonly number[],
  kernel: ValidationKernel,
  exactLimit: number = MAX_EXACT_CLIENTS,
): CoefficientMap {
  if (sampleCounts.length <= exactLimit) return exactCoefficientMap(sampleCounts, kernel);
  return sampledCoefficientMap(sampleCounts, kernel, ROUND_SAMPLING);
}

/** How a round's φ were valued, as the release record reports it: the method and, when sampled, its error. */
export function roundValuation(map: CoefficientMap): NonNullable<ReleaseRecord["valuation"]> {
  if (map.method === "exact") return { method: "exact" };
  return {
    method: "sampled",
    permutations: map.permutations ?? ROUND_SAMPLING.permutations,
    maxRelativeError: coefficientStandardError(map)?.maxRelative ?? Number.NaN,
  };
}

/**
 * Galois steps of the custodian's epoch keys: with the "computed" profile (default) those of the projection by a dense
 * upper-triangular R (a superset of any validation set's R) for d×c models, plus the slot sums; with "submitted" only
 * the positive powers of two, and a projection composes its rotations from them (`key-profile.ts`). The keys then serve
 * every round of the program.
 */
export function roundKeyOptions(
  slotCount: number,
  dimension: number,
  classes: number,
  profile: ProjectionKeyProfile = "computed",
): KeyGenerationOptions {
  const dense = matrix(dimension, dimension);
  for (let row = 0; row < dimension; row++)
    for (let col = row; col < dimension; col++) dense.data[row * dimension + col] = 1;
  return { galoisSteps: shapleyGaloisSteps(matvecPlan(dense, classes, slotCount), profile) };
}

export interface IncludedInput {
  readonly envelope: Uint8Array;
  readonly sampleCount: number;
}

export interface RoundComputationInput {
  readonly ctx: CkksContext;
  readonly bundleBytes: Uint8Array;
  readonly bundleHash: Hex;
  readonly inputs: readonly IncludedInput[];
  readonly validation: Dataset;
  readonly base: LinearModel;
  readonly workers?: number;
  /** Where the homomorphic jobs run instead of `workers` threads (e.g. BullMQ workers); bundleBytes may then be empty. */
  readonly backend?: () => Promise<ValuationBackend>;
  /** FedAvg's weighted sums on BullMQ workers instead of this process (the same output bytes). */
  readonly fedAvgQueue?: Omit<QueueFedAvgOptions, "publicBundleHash">;
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

/**
 * FedAvg aggregate envelope of the included inputs' models (deterministic bytes, embedded or on the queue alike); a
 * submitted projection is left out (`modelEnvelope`), so the aggregate is the same whichever layout each input used.
 */
export async function computeAggregate(input: RoundComputationInput): Promise<Uint8Array> {
  const models: IncludedInput[] = [];
  for (const i of input.inputs) {
    const parsed = await parseEnvelope(i.envelope, { kind: EnvelopeKind.Contribution });
    // Only an envelope carrying a projection is re-cut (and checked against the round's layout); any other is averaged
    // as it is, as before layout 2 existed.
    const withProjection = parsed.header.tensors.some((t) => t.name === ROUND_PROJECTION_TENSOR);
    const envelope = withProjection ? await modelEnvelope(i.envelope, parsed, layoutOf(input)) : i.envelope;
    models.push({ envelope, sampleCount: i.sampleCount });
  }
  if (input.fedAvgQueue) {
    return queueFedAvg(input.ctx, models, { ...input.fedAvgQueue, publicBundleHash: input.bundleHash });
  }
  return fedAvgEncrypted(input.ctx, models, { publicBundleHash: input.bundleHash });
}

/** The round's model shape and slot count, as the contribution layouts need them. */
function layoutOf(input: RoundComputationInput) {
  return { dimension: input.base.dimension, classes: input.base.classes, parameterSet: input.ctx.parameterSet };
}

/**
 * Encrypted exact Shapley values of the included inputs: Enc(φ) as an Aggregate envelope (the only kind the custodian
 * decrypts once its hash is a published output), deterministic bytes.
 */
export async function computeScores(input: RoundComputationInput): Promise<Uint8Array> {
  const parsed: ParsedEnvelope[] = [];
  for (const i of input.inputs) {
    parsed.push(
      await parseEnvelope(i.envelope, {
        kind: EnvelopeKind.Contribution,
        parameterSetId: input.ctx.parameterSet.id,
        publicBundleHash: input.bundleHash,
      }),
    );
  }
  const kernel = roundKernel(input.validation, input.base);
  const map = roundCoefficientMap(
    input.inputs.map((i) => i.sampleCount),
    kernel,
  );
  const result = await computeEncryptedScores({
    parameterSetId: input.ctx.parameterSet.id,
    bundle: input.bundleBytes,
    // A d×c model fills one ciphertext: chunk 0 is exactly vec(w) as the Shapley path packs it.
    models: parsed.map((envelope) => Uint8Array.from(envelope.chunks[0])),
    kernel,
    map,
    workers: input.workers,
    backend: input.backend ? await input.backend() : undefined,
    onProgress: input.onProgress,
  });
  return scoreEnvelope(input.ctx, input.bundleHash, result.scores, map);
}

/** The round's check of submitted projections: its public seed and how a residual envelope gets released. */
export interface RoundProjectionCheck {
  /** `roundChallengeSeed(inputs hash, hash of the block that closed the round)`: unknown when envelopes were fixed. */
  readonly seed: Hex;
  /**
   * Has the custodian release a residual envelope (`residualEnvelope`, tensor `projection-residual` [1, 1]) under
   * `release` (its error bound): the flooded value and the flooding's standard deviation. The auditor answers with the
   * published release instead, after comparing the envelope with the published one.
   */
  readonly release: (envelope: Uint8Array, release: OutputRelease) => Promise<{ value: number; floodingSigma: number }>;
}

/** One released residual: which contributors (positions among the included inputs), its value and tolerance. */
export interface RoundProjectionResidual {
  /** keccak256 of the residual envelope released (what the custodian's policy and the auditor match). */
  readonly envelope: Hex;
  readonly positions: readonly number[];
  readonly residual: number;
  /** The released flooding's standard deviation (the tolerance's flooding term). */
  readonly floodingSigma: number;
  readonly tolerance: number;
}

/** A contributor left out of the valuation because its submitted projection is not R·w of its model. */
export interface ProjectionExclusion {
  /** Position among the included inputs (commit order). */
  readonly position: number;
  readonly reason: "projection-inconsistent";
  /** Its own released residual and tolerance (|residual| > tolerance). */
  readonly residual: number;
  readonly tolerance: number;
}

export interface CheckedScores {
  /** Enc(φ) over the inputs that remain, in their order (as `computeScores` would give for exactly those). */
  readonly scores: Uint8Array;
  /** Positions valued, in order: φ_k is position `valued[k]`'s. */
  readonly valued: readonly number[];
  readonly excluded: readonly ProjectionExclusion[];
  readonly residuals: readonly RoundProjectionResidual[];
}

/**
 * Enc(φ) using the projections the inputs submitted (layout 2), after the round's consistency check: all submitted
 * projections are checked together (one released residual), and if that fails each alone; a contributor whose own
 * residual exceeds its tolerance is excluded from the valuation ("projection-inconsistent", never re-projected: its
 * w and z disagree, so neither is trusted), and the coefficient map is recomputed over the others. Layout-1 inputs are
 * projected by the workers. Deterministic: the residual envelopes and Enc(φ) are the same bytes for the auditor.
 */
export async function computeCheckedScores(
  input: RoundComputationInput,
  check: RoundProjectionCheck,
): Promise<CheckedScores> {
  const layout = layoutOf(input);
  const contributions = [];
  for (const i of input.inputs) {
    const parsed = await parseEnvelope(i.envelope, {
      kind: EnvelopeKind.Contribution,
      parameterSetId: input.ctx.parameterSet.id,
      publicBundleHash: input.bundleHash,
    });
    contributions.push(roundContribution(parsed, layout));
  }
  const kernel = roundKernel(input.validation, input.base);
  const counts = input.inputs.map((i) => i.sampleCount);
  const slotCount = input.ctx.slotCount;
  const residuals: RoundProjectionResidual[] = [];
  const released = async (residual: Uint8Array, positions: readonly number[]) => {
    const envelope = await residualEnvelope(input.ctx, input.bundleHash, residual);
    const challenges = positions.map((i) => projectionChallenge(check.seed, i, kernel.r, layout.classes, slotCount));
    const release = consistencyRelease(input.ctx, challenges);
    const { value, floodingSigma } = await check.release(envelope, release);
    const tolerance = consistencyTolerance(release.errorBound, floodingSigma, challenges, ROUND_MODEL_NORM_BOUND);
    residuals.push({
      envelope: await envelopeCommitment(envelope),
      positions: [...positions],
      residual: value,
      floodingSigma,
      tolerance,
    });
    return Math.abs(value) <= tolerance;
  };
  const models = contributions.map((c) => Uint8Array.from(c.model));
  const projections = contributions.map((c) => (c.projection ? Uint8Array.from(c.projection) : undefined));
  let failed: number[] = [];
  if (projections.some((z) => z !== undefined)) {
    failed = await inconsistentProjections({
      parameterSetId: input.ctx.parameterSet.id,
      bundle: input.bundleBytes,
      models,
      projections,
      kernel,
      map: roundCoefficientMap(counts, kernel),
      workers: input.workers,
      backend: input.backend ? await input.backend() : undefined,
      consistency: { seed: check.seed, accepts: released },
    });
  }
  const excluded = failed.map((position): ProjectionExclusion => {
    const own = residuals.find((r) => r.positions.length === 1 && r.positions[0] === position)!;
    return { position, reason: "projection-inconsistent", residual: own.residual, tolerance: own.tolerance };
  });
  const valued = [...input.inputs.keys()].filter((i) => !failed.includes(i));
  const map = roundCoefficientMap(
    valued.map((i) => counts[i]),
    kernel,
  );
  const result = await computeEncryptedScores({
    parameterSetId: input.ctx.parameterSet.id,
    bundle: input.bundleBytes,
    models: valued.map((i) => models[i]),
    projections: valued.map((i) => projections[i]),
    kernel,
    map,
    workers: input.workers,
    backend: input.backend ? await input.backend() : undefined,
    // Every projection left was accepted by a released residual above (the combined one, or its own): nothing is
    // released twice, so this answers from that verdict (positions k here are valued[k] above).
    consistency: {
      seed: check.seed,
      accepts: async (_residual, indices) => indices.every((k) => valued[k] !== undefined),
    },
    onProgress: input.onProgress,
  });
  return {
    scores: await scoreEnvelope(input.ctx, input.bundleHash, result.scores, map),
    valued,
    excluded,
    residuals,
  };
}
