import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { randomBytes } from "node:crypto";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import {
  loadEncryptionKey,
  loadSecretKey,
  parsePublicBundle,
  type EncryptionKey,
  type PublishedBundleParts,
} from "@ciphershare/protocol/ckks/keys";
import { KeyCustodian } from "../keys/key-custodian";
import { openKeystore } from "../keys/keystore";
import { InMemoryRoundCommitments } from "../keys/policy";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import {
  applyBatchMaps,
  applyCoefficientMap,
  coefficientStandardError,
  combineBatches,
  exactCoefficientMap,
  MAX_EXACT_CLIENTS,
  sampledCoefficientMap,
  type CoefficientMap,
  type CoefficientStandardError,
} from "./coefficients";
import { gramVector, utilityFromGram, validationKernel, type ValidationKernel } from "./gram";
import { encryptModel, encryptProjection } from "./encrypted/client";
import { projectModel, projectionChallenge, consistencyTolerance } from "./encrypted/consistency";
import type { ProjectionConsistency } from "./encrypted/pipeline";
import { bytesToHex, type Hex } from "@ciphershare/protocol/hex";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { shapleyGaloisSteps, type ProjectionKeyProfile } from "./encrypted/key-profile";
import { matvecPlan } from "./encrypted/layout";
import { computeEncryptedScores } from "./encrypted/pipeline";
import { decryptScores, residualEnvelope, scoreEnvelope, scoresFromRelease } from "./encrypted/release";
import { consistencyRelease, scoresRelease } from "../threshold/release-bounds";
import { assertValidProblem, type ValuationProblem } from "./utility";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { ValuationBackend } from "./encrypted/backend";

/** deep-v2: φ lands at scale 2^100 on two primes, room for flooding by the book (docs/ckks.md). */
export const SHAPLEY_PARAMETER_SET = "deep-v2";
export const DEFAULT_PERMUTATIONS = 2000;

export interface ValuationOptions {
  /**
   * "exact": the integral-form map (n ≤ `MAX_EXACT_CLIENTS` = 300); "sampled" draws permutations.
   * Default: exact whenever n allows it.
   */
  readonly method?: "exact" | "sampled";
  readonly permutations?: number;
  readonly batches?: number;
  readonly seed?: number;
  /**
   * A coefficient map built by the caller over the same sample counts and kernel (a round's `roundCoefficientMap`),
   * used as is instead of building one from method/permutations/batches/seed: so a round values by its own map.
   */
  readonly map?: CoefficientMap;
  /** Run under CKKS (default) or with the same Gram method in plaintext float64. */
  readonly encrypted?: boolean;
  readonly workers?: number;
  /** Also return φ before the custodian's noise flooding (for precision checks; never released). */
  readonly keepUnflooded?: boolean;
  /**
   * C with ‖w_i‖_F ≤ C for every model: the declared bound the flooding is sized for. This harness holds the
   * models, so it defaults to their largest norm rounded up to a power of two; a deployment declares it.
   */
  readonly modelNormBound?: number;
  readonly onProgress?: (phase: string, done: number, total: number) => void;
  /**
   * Clients submit their projection R·w_i encrypted next to w_i and the coprocessor checks it instead of projecting
   * (default true); false: the coprocessor projects every client (the path of envelopes without a projection).
   */
  readonly submitProjections?: boolean;
  /**
   * The custodian's Galois key set (`key-profile.ts`): "submitted" (only powers of two; a client failing its check is
   * projected with composed rotations) or "computed" (a key per projection step). Default: "submitted" when clients
   * submit projections, else "computed".
   */
  readonly keyProfile?: ProjectionKeyProfile;
  /** The public challenge seed of the consistency check (default: fresh random bytes). */
  readonly challengeSeed?: Hex;
  /** What client i submits as its projection, given the honest R·w_i (default: that): attack tests only. */
  readonly projectionOf?: (client: number, honest: Matrix) => Matrix;
  /**
   * Where the encrypted jobs run instead of `workers` threads: given the epoch's published bundle parts (to put where
   * the workers read them), a backend such as `queueBackend` (BullMQ workers).
   */
  readonly backend?: (keys: PublishedBundleParts) => Promise<ValuationBackend>;
}

export interface Valuation {
  readonly phi: number[];
  /**
   * Standard error of each φ_k, where it is known without decrypting more than φ: zeros for the exact
   * map (no sampling error); for a sampled map only in plaintext mode, from the B batch estimates
   * sqrt(Σ_b (φ̂_b,k − φ̂_k)² / (B(B−1))). Absent for encrypted sampled valuations: the batch estimates
   * are more functionals of the private Gram vector than φ, so they are never computed under encryption;
   * see `coefficientStandardError` instead.
   */
  readonly standardError?: number[];
  /** Sampled maps (both modes): the public standard error of the sampled coefficients; no data involved. */
  readonly coefficientStandardError?: CoefficientStandardError;
  readonly utilityEmpty: number;
  /** U(N): for the encrypted path derived as U(∅) + Σφ (efficiency), so nothing else is decrypted. */
  readonly utilityAll: number;
  readonly method: "exact" | "sampled";
  readonly encrypted: boolean;
  readonly permutations?: number;
  readonly seconds: number;
  /** Time spent building the public coefficient map (part of `seconds`). */
  readonly coefficientSeconds: number;
  readonly unflooded?: number[];
  /** Encrypted only: standard deviation of the flooding in each released φ_k / outputScale. */
  readonly floodingSigma?: number;
  /** Encrypted only: what the custodian decrypted and released — the tensor shape and the value count. */
  readonly release?: { readonly tensors: readonly TensorSpec[]; readonly valueCount: number };
  readonly heSeconds?: {
    keygen: number;
    encrypt: number;
    setup: number;
    check: number;
    projection: number;
    terms: number;
  };
  /** Encrypted only: the key profile, its Galois key count and the evaluation bundle's bytes (what each worker loads). */
  readonly keys?: {
    readonly profile: ProjectionKeyProfile;
    readonly galoisKeys: number;
    readonly evaluationBundleBytes: number;
  };
  /** Encrypted only: the commitment (keccak-256) of the published Enc(φ) envelope, the one output the custodian opened. */
  readonly scoresCommitment?: Hex;
  /** Encrypted only: clients whose submitted projection failed the consistency check (projected by the workers). */
  readonly inconsistentProjections?: readonly number[];
  /** Encrypted only: every released consistency residual (flooded) and its tolerance, in the order checked. */
  readonly projectionChecks?: readonly ProjectionCheck[];
}

/** One released consistency check of submitted projections: which clients, the flooded residual, the tolerance. */
export interface ProjectionCheck {
  readonly clients: readonly number[];
  readonly residual: number;
  readonly tolerance: number;
}

/** Chooses and builds the coefficient map: exact up to `MAX_EXACT_CLIENTS` clients unless told otherwise. */
export function coefficientMapFor(
  sampleCounts: readonly number[],
  kernel: ValidationKernel,
  options: Pick<ValuationOptions, "method" | "permutations" | "batches" | "seed">,
): CoefficientMap {
  const method = options.method ?? (sampleCounts.length <= MAX_EXACT_CLIENTS ? "exact" : "sampled");
  if (method === "exact") return exactCoefficientMap(sampleCounts, kernel);
  return sampledCoefficientMap(sampleCounts, kernel, {
    permutations: options.permutations ?? DEFAULT_PERMUTATIONS,
    batches: options.batches,
    seed: options.seed,
  });
}

/**
 * Values every client's contribution. Plaintext: the Gram method in float64. Encrypted: end to end with
 * ephemeral keys — the `KeyCustodian` generates epoch keys, clients encrypt vec(w_i), the coprocessor
 * computes Enc(φ) from ciphertexts only and publishes it as the round's output envelope, and the
 * custodian (whose policy decrypts only published aggregate outputs) releases φ with noise flooding.
 */
export async function valueContributions(
  problem: ValuationProblem,
  options: ValuationOptions = {},
): Promise<Valuation> {
  assertValidProblem(problem);
  const started = performance.now();
  const kernel = validationKernel(problem.x, problem.y, problem.base);
  const mapStarted = performance.now();
  const map = options.map ?? coefficientMapFor(problem.sampleCounts, kernel, options);
  if (map.n !== problem.sampleCounts.length) {
    throw new InvalidInputError(
      `The coefficient map is over ${map.n} clients, the problem has ${problem.sampleCounts.length} sample counts.`,
    );
  }
  const common = {
    coefficientSeconds: (performance.now() - mapStarted) / 1000,
    utilityEmpty: kernel.utilityEmpty,
    method: map.method,
    permutations: map.permutations,
    coefficientStandardError: coefficientStandardError(map),
  };
  if (options.encrypted === false) {
    const gram = gramVector(kernel, problem.models);
    const { standardError } = combineBatches(applyBatchMaps(map, gram));
    const all = [...problem.models.keys()];
    return {
      ...common,
      phi: Array.from(applyCoefficientMap(map, gram)),
      standardError,
      utilityAll: utilityFromGram(kernel, gram, problem.sampleCounts, all),
      encrypted: false,
      seconds: (performance.now() - started) / 1000,
    };
  }

  const ctx = await CkksContext.create(SHAPLEY_PARAMETER_SET);
  const roundId = 1n;
  const commitments = new InMemoryRoundCommitments();
  const passphrase = randomBytes(24).toString("hex");
  let custodian: KeyCustodian | undefined;
  let encryptionKey: EncryptionKey | undefined;
  try {
    // Custodian: ephemeral epoch keys with the Galois steps of the key profile.
    const keygenStarted = performance.now();
    const submit = options.submitProjections ?? true;
    const profile = options.keyProfile ?? (submit ? "submitted" : "computed");
    const galoisSteps = shapleyGaloisSteps(matvecPlan(kernel.r, problem.y.cols, ctx.slotCount), profile);
    const epoch = await KeyCustodian.generateEpochKeys(ctx, passphrase, { galoisSteps });
    custodian = await KeyCustodian.open(ctx, epoch.keystore, passphrase, { commitments });
    // Clients load the public key only (the encryption half of the bundle; the Galois keys are the workers').
    encryptionKey = loadEncryptionKey(ctx, parsePublicBundle(epoch.parts.encryption), epoch.publicBundleHash);
    // Clients: encrypt vec(w_i) under the public bundle.
    const encryptStarted = performance.now();
    const encryptor = encryptionKey.encryptor;
    const models = problem.models.map((w) => encryptModel(ctx, w, encryptor));
    // ... and, unless told otherwise, their projection R·w_i by the public R (the coprocessor checks it).
    const projections = submit
      ? problem.models.map((w, i) =>
          options.projectionOf
            ? encryptModel(ctx, options.projectionOf(i, projectModel(kernel.r, w)), encryptor)
            : encryptProjection(ctx, kernel.r, w, encryptor),
        )
      : undefined;
    const encryptDone = performance.now();
    const normBound = options.modelNormBound ?? largestNormBound(problem);
    // The public challenge seed: in a round, fixed after submissions close; here any fresh value.
    const seed = options.challengeSeed ?? bytesToHex(randomBytes(32));
    const checks: ProjectionCheck[] = [];
    const consistency: ProjectionConsistency = {
      seed,
      accepts: async (residual, indices) => {
        const envelope = await residualEnvelope(ctx, epoch.publicBundleHash, residual);
        commitments.publishOutput(roundId, await envelopeCommitment(envelope));
        const challenges = indices.map((i) => projectionChallenge(seed, i, kernel.r, problem.y.cols, ctx.slotCount));
        const release = consistencyRelease(ctx, challenges);
        const output = await custodian!.decryptOutput(roundId, envelope, release);
        const tolerance = consistencyTolerance(release.errorBound, output.floodingSigma, challenges, normBound);
        checks.push({ clients: [...indices], residual: output.values[0], tolerance });
        return Math.abs(output.values[0]) <= tolerance;
      },
    };
    // Coprocessor: Enc(φ) from ciphertexts only, published as the round's one output envelope.
    const result = await computeEncryptedScores({
      parameterSetId: SHAPLEY_PARAMETER_SET,
      bundle: epoch.bundleBytes,
      models,
      projections,
      consistency,
      kernel,
      map,
      workers: options.workers,
      backend: options.backend ? await options.backend(epoch.parts) : undefined,
      onProgress: options.onProgress,
    });
    const envelope = await scoreEnvelope(ctx, epoch.publicBundleHash, result.scores, map);
    const scoresCommitment = await envelopeCommitment(envelope);
    commitments.publishOutput(roundId, scoresCommitment);
    // Custodian: decrypts that envelope only, flooding it by the bound of the computation, releases n values.
    const release = scoresRelease(ctx, kernel, map, normBound, galoisSteps);
    const output = await custodian.decryptOutput(roundId, envelope, release);
    const released = scoresFromRelease(output, map.n);
    let unflooded: number[] | undefined;
    if (options.keepUnflooded) {
      // Precision check only: this harness opens the keystore itself, which no role does.
      const { secretKey } = await openKeystore(epoch.keystore, passphrase);
      const secret = loadSecretKey(ctx, secretKey);
      secretKey.fill(0);
      try {
        unflooded = Array.from(decryptScores(ctx, secret.decryptor, result.scores, map));
      } finally {
        secret.dispose();
      }
    }
    return {
      ...common,
      phi: released.phi,
      ...(map.method === "exact" ? { standardError: new Array<number>(map.n).fill(0) } : {}),
      release: { tensors: output.tensors, valueCount: output.values.length },
      utilityAll: kernel.utilityEmpty + released.phi.reduce((a, b) => a + b, 0),
      encrypted: true,
      seconds: (performance.now() - started) / 1000,
      unflooded,
      floodingSigma: output.floodingSigma,
      keys: {
        profile,
        galoisKeys: galoisSteps.length,
        evaluationBundleBytes: epoch.parts.evaluation.length,
      },
      scoresCommitment,
      inconsistentProjections: [...result.inconsistent],
      projectionChecks: checks,
      heSeconds: {
        keygen: (encryptStarted - keygenStarted) / 1000,
        encrypt: (encryptDone - encryptStarted) / 1000,
        setup: result.seconds.setup,
        check: result.seconds.check,
        projection: result.seconds.projection,
        terms: result.seconds.terms,
      },
    };
  } finally {
    encryptionKey?.dispose();
    custodian?.dispose();
    ctx.dispose();
  }
}

/** The largest model's Frobenius norm, rounded up to a power of two. */
function largestNormBound(problem: ValuationProblem): number {
  const norms = problem.models.map((w) => Math.sqrt(w.data.reduce((sum, v) => sum + v * v, 0)));
  return 2 ** Math.ceil(Math.log2(Math.max(...norms, 2 ** -30)));
}
