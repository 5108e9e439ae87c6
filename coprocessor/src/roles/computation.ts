// The round's deterministic computation, shared by the coprocessor (which publishes its output hashes) and the
// auditor (which re-runs it from the same public inputs and must get byte-identical outputs): encrypted FedAvg of
// the included envelopes and encrypted exact Shapley values of the same envelopes, both under the program's bundle.
import type { CkksContext } from "../ckks/context";
import { EnvelopeKind, parseEnvelope, type ParsedEnvelope } from "../ckks/envelope";
import type { KeyGenerationOptions } from "../ckks/keys";
import { fedAvgEncrypted } from "../fedavg/homomorphic";
import type { TensorSpec } from "../formats/model-update";
import type { Hex } from "../hash/keccak";
import { oneHotLabels, type Dataset } from "../ml/dataset";
import { MNIST_CLASSES, MNIST_DIMENSION } from "../ml/mnist";
import type { LinearModel } from "../ml/model";
import { exactCoefficientMap, type CoefficientMap } from "../shapley/coefficients";
import { requiredGaloisSteps, matvecPlan } from "../shapley/encrypted/layout";
import { computeEncryptedScores } from "../shapley/encrypted/pipeline";
import { validationKernel, type ValidationKernel } from "../shapley/gram";
import { matrix, type Matrix } from "../shapley/matrix";
import { scoreEnvelope } from "../shapley/encrypted/release";

/**
 * One parameter set for a round: deep-v2 holds a 785×10 model in one ciphertext and Shapley's depth 3, and
 * releases both outputs at scale 2^100 on two primes, the headroom flooding by the book needs (docs/ckks.md).
 */
export const ROUND_PARAMETER_SET = "deep-v2";

/**
 * C: every contributed model is assumed to satisfy ‖w‖_F ≤ C, as FL norm clipping ensures. The custodian sizes
 * its flooding for the worst case under this bound and refuses to release values it rules out (docs/ckks.md).
 * The demo's models stay below 2; nothing checks the bound on ciphertexts (that needs proofs of well-formed
 * encryption).
 */
export const ROUND_MODEL_NORM_BOUND = 16;

/** The tensor manifest every contribution must carry: one d×c weight matrix (bias row last). */
export function modelTensors(dimension = MNIST_DIMENSION, classes = MNIST_CLASSES): TensorSpec[] {
  return [{ name: "weights", shape: [dimension, classes] }];
}

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

/** The Shapley coefficient map of a round: exact (the program's valuation method 1) over the included sample counts. */
export function roundCoefficientMap(sampleCounts: readonly number[], kernel: ValidationKernel): CoefficientMap {
  return exactCoefficientMap(sampleCounts, kernel);
}

/**
 * Galois steps of the custodian's epoch keys: those of the projection by a dense upper-triangular R (a superset of
 * any validation set's R) for d×c models, plus the slot sums. The keys then serve every round of the program.
 */
export function roundKeyOptions(
  slotCount: number,
  dimension = MNIST_DIMENSION,
  classes = MNIST_CLASSES,
): KeyGenerationOptions {
  const dense = matrix(dimension, dimension);
  for (let row = 0; row < dimension; row++)
    for (let col = row; col < dimension; col++) dense.data[row * dimension + col] = 1;
  return { galoisSteps: requiredGaloisSteps(matvecPlan(dense, classes, slotCount)) };
}

export interface IncludedInput {
  readonly envelope: Uint8Array;
  readonly sampleCount: number;
}

export interface RoundOutputs {
  readonly aggregate: Uint8Array;
  readonly scores: Uint8Array;
}

export interface RoundComputationInput {
  readonly ctx: CkksContext;
  readonly bundleBytes: Uint8Array;
  readonly bundleHash: Hex;
  readonly inputs: readonly IncludedInput[];
  readonly validation: Dataset;
  readonly base: LinearModel;
  readonly workers?: number;
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

/** FedAvg aggregate envelope of the included inputs (deterministic bytes). */
export async function computeAggregate(input: RoundComputationInput): Promise<Uint8Array> {
  return fedAvgEncrypted(
    input.ctx,
    input.inputs.map((i) => ({ envelope: i.envelope, sampleCount: i.sampleCount })),
    { publicBundleHash: input.bundleHash },
  );
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
    onProgress: input.onProgress,
  });
  return scoreEnvelope(input.ctx, input.bundleHash, result.scores, map);
}

/**
 * The demo's data and local training. Least squares (the utility's own loss, docs/runtime.md), one short epoch, and
 * a Dirichlet(1) label skew (non-IID): with longer local training on stronger skew, client drift makes averaging in
 * the unchanged base model (the free rider) act as useful damping, so it earns a positive Shapley value. Measured
 * with plaintext Shapley, seeds 5–8 × 3 rounds × 8 clients and seeds 5–10 × 1 round × 4 clients: every honest
 * φ > 0 and the poisoned client and the free rider (claiming 3× its data) lowest and ≤ 0 in every round.
 */
export const DEMO_TRAINING = { loss: "squared", epochs: 1, learningRate: 0.01 } as const;
export const DEMO_LABEL_SKEW_ALPHA = 1;
export const DEMO_FREE_RIDER_CLAIM = 3;
