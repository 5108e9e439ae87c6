// The roles' steps of an encrypted-data training round (docs/training.md) on the ordinary round machinery:
//   provider    — computes [A_k | B_k] from its rows (optionally with DP), encrypts it under the program key and
//                 commits it like a contribution with its public row count (then reveals it in the reveal phase);
//   coprocessor — once Closed: checks each upload (excluded with a reason), aggregates, adds λnI, masks two-sided,
//                 publishes Enc(masked system) as the round's aggregate and a round record as its second output; keeps
//                 the mask to itself;
//   custodian   — once Finalized: decrypts only that committed masked system (policy + flooding), solves, encrypts
//                 U under the buyer's key and anchors a release record naming it;
//   coprocessor — unmasks under the buyer's key: Enc_buyer(W) = N·U·Sᵀ, published with a model record;
//   buyer       — decrypts W with its own key.
// With a valuation in the terms, each upload also carries the provider's encrypted local ridge model: the coprocessor
// computes Enc(φ) of those models against the terms' validation set and the round record commits to it; the custodian
// releases φ (flooded) with U and settles the buyer's payment (the round's pool) as federated rounds do.
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import {
  CommitmentStatus,
  ExclusionReason,
  ProgramKind,
  ROUND_PHASE_NAMES,
  RoundPhase,
  type ExclusionReasonCode,
} from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { loadPublicBundle, type LoadedPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { bytesToHex, isBytes32Hex, sameHash, type Address, type Hex } from "@ciphershare/protocol/hex";
import { decodeDataset } from "@ciphershare/protocol/records/dataset";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { encodeJsonRecord, parseJsonRecord } from "@ciphershare/protocol/records/json";
import {
  decodeTrainingTerms,
  type TrainingTerms,
  type TrainingValuationTerms,
} from "@ciphershare/protocol/records/training-terms";
import { inputsHash, publicationReasons, type RoundCommitment } from "@ciphershare/protocol/round/inputs";
import { mined, type ChainReader, type ChainSigner } from "../chain/clients";
import { contractsFor, contractsToRead, readProgram, readRound, type ProgramState } from "../chain/contracts";
import { readCommitments, readRoundClosedBlock } from "../chain/events";
import { KeyCustodian } from "../keys/key-custodian";
import { openKeystore } from "../keys/keystore";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import type { BlobStore } from "../storage/blob-store";
import { readBundleBytes } from "../storage/key-bundle";
import { aggregateSystem } from "../training/aggregate";
import { decryptModelEnvelope } from "../training/buyer";
import { encryptForBuyer, solveMaskedSystem } from "../training/custodian";
import { TrainingInputError, type TrainingRejection } from "@ciphershare/protocol/training/errors";
import { modelLayout, systemLayout } from "../training/keys";
import { drawMask, maskedSystem, unmaskModel, type TrainingMask } from "../training/mask";
import { TRAINING_PARAMETER_SET } from "../training/pipeline";
import { submissionStatistics, type PrivacyAccounting } from "../training/privacy";
import { loadMatrixEnvelope, maskedSystemRelease, matrixEnvelope, matrixFromSlots } from "../training/release";
import type { TrainingShape } from "@ciphershare/protocol/training/statistics";
import { providerUpload, verifyUpload, type VerifiedUpload } from "../training/upload";
import { trainingValuationSetup } from "../training/valuation";
import { encryptedResidual, residualChallenge } from "../training/residual";
import {
  flaggedResiduals,
  residualChallengeSeed,
  residualEnvelope,
  residualRelease,
  residualSeedNumber,
  residualsFromRelease,
  residualTolerance,
} from "../training/residual-check";
import { deleteAll, type Ciphertext } from "@ciphershare/protocol/ckks/seal";
import type { FhevmClient } from "../chain/fhevmClient";
import type { RoundCommitmentSource } from "../keys/policy";
import { computeEncryptedScores } from "../shapley/encrypted/pipeline";
import { scoreEnvelope, scoresFromRelease } from "../shapley/encrypted/release";
import type { StateStore } from "../state/store";
import { scoresRelease } from "../threshold/release-bounds";
import { ChainRoundCommitments, settlePool, type CustodianRoleOptions } from "./custodian";
import { keepAndCommit, verifiedBundle, type SubmittedContribution } from "./contributor";
import { writeJsonFile } from "./workspace";

export class TrainingRoleError extends CipherShareError {
  override name = "TrainingRoleError";
}

export { TRAINING_DP_CLIP_NORM, TRAINING_DP_DELTA } from "../training/privacy";

/** A training program as the chain and its published terms say. */
export interface TrainingProgram {
  readonly program: ProgramState;
  readonly terms: TrainingTerms;
  readonly shape: TrainingShape;
}

/** Reads a program, refuses it unless it is a training program whose stored terms hash to its `termsHash`. */
export async function readTrainingProgram(
  deployment: Deployment,
  reader: ChainReader,
  store: BlobStore,
  programId: bigint,
): Promise<TrainingProgram> {
  const program = await readProgram(deployment, reader, programId);
  if (program.kind !== ProgramKind.Training) {
    throw new TrainingRoleError("The program is not a training program.", {
      details: `program ${programId} has kind ${program.kind}`,
    });
  }
  const bytes = await store.get(program.termsHash);
  if (!sameHash(await keccak256(bytes), program.termsHash)) {
    throw new TrainingRoleError("The stored terms do not hash to the program's termsHash.", {
      details: program.termsHash,
    });
  }
  const terms = decodeTrainingTerms(bytes);
  const shape = { features: terms.features, outputs: terms.outputs };
  return { program, terms, shape };
}

// ---------------------------------------------------------------------------------------------------- provider

export interface TrainingSubmission extends SubmittedContribution {
  /** What the DP option did (the provider sees it before anything is encrypted), or null without DP. */
  readonly privacy: PrivacyAccounting | null;
}

/**
 * The provider's step (commit phase): checks its rows against the program's terms (shape, finite values, row count),
 * computes [A_k | B_k] — with the Gaussian mechanism when the terms or the provider ask for ε (the larger noise of
 * the two, i.e. the smaller ε) — encrypts it under the program's verified key and commits it with its row count.
 */
export async function submitTrainingData(
  deployment: Deployment,
  provider: ChainSigner,
  store: BlobStore,
  options: { roundId: bigint; x: Matrix; y: Matrix; dpEpsilon?: number; localDir: string; cacheDir: string },
): Promise<TrainingSubmission> {
  const round = await readRound(deployment, provider.reader, options.roundId);
  if (round.phase !== RoundPhase.Open) {
    throw new TrainingRoleError("The round is not open for submissions (its commit phase is over).", {
      details: `round ${options.roundId}, phase ${ROUND_PHASE_NAMES[round.phase]}`,
    });
  }
  const { program, terms, shape } = await readTrainingProgram(deployment, provider.reader, store, round.programId);
  const { stats, privacy } = submissionStatistics(options.x, options.y, shape, {
    terms: terms.dpEpsilon,
    provider: options.dpEpsilon,
  });
  const ctx = await CkksContext.create(TRAINING_PARAMETER_SET);
  try {
    const key = await verifiedBundle(ctx, store, program.publicKeyHash, options.cacheDir);
    try {
      const bytes = providerUpload(
        ctx,
        stats,
        shape,
        key.encryptor,
        terms.valuation === undefined ? {} : { lambda: terms.lambda },
      );
      const committed = await keepAndCommit(deployment, provider, {
        roundId: options.roundId,
        bytes,
        sampleCount: stats.rows,
        localDir: options.localDir,
      });
      return { ...committed, privacy };
    } finally {
      key.dispose();
    }
  } finally {
    ctx.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------- records

/** What the coprocessor publishes as a training round's second output. */
export interface TrainingRoundRecord {
  readonly kind: "ciphershare.training-round";
  readonly version: 1;
  readonly round: string;
  /** keccak256 of the masked-system envelope (the round's aggregate, the one output the custodian decrypts). */
  readonly maskedSystem: Hex;
  readonly included: readonly { readonly index: number; readonly rows: number }[];
  readonly totalRows: number;
  readonly excluded: readonly { readonly index: number; readonly reason: string; readonly details: string }[];
  /**
   * With a valuation in the terms: keccak256 of Enc(φ)'s score envelope (φ of the included providers' local models, in
   * `included` order). Committed through this record, itself the round's second committed output.
   */
  readonly valuation?: {
    readonly scores: Hex;
    readonly validation: Hex;
    /**
     * The consistency check of each local model against its statistics: Enc(ρ_k) of the included providers (one
     * envelope, committed through this record like Enc(φ)), for the challenge drawn from the inputs hash and the hash
     * of the block that closed the round (`closingBlock`, its `RoundClosed` log); `seed` is that challenge seed.
     */
    readonly residuals: { readonly envelope: Hex; readonly closingBlock: number; readonly seed: Hex };
  };
}

/** What the custodian anchors: the masked system it decrypted and U under the buyer's key. */
export interface TrainingReleaseRecord {
  readonly kind: "ciphershare.training-release";
  readonly version: 1;
  readonly round: string;
  readonly maskedSystem: Hex;
  /** keccak256 of the envelope of Enc_buyer(U). */
  readonly u: Hex;
  /** Standard deviation the flooding added to each released entry of the masked system. */
  readonly floodingSigma: number;
  /** φ of each included provider (flooded, public), the pool's recipients in that order, φ's flooding σ. */
  readonly valuation?: {
    readonly scores: Hex;
    readonly providers: readonly Address[];
    readonly phi: readonly number[];
    readonly floodingSigma: number;
    /**
     * ρ_k of each included provider (flooded, public), its tolerance (the public error bound plus 8 flooding σ),
     * the flooding σ, and the providers (positions in `providers`) whose |ρ_k| exceeds it: paid nothing, whatever φ.
     */
    readonly residuals: {
      readonly envelope: Hex;
      readonly rho: readonly number[];
      readonly tolerance: readonly number[];
      readonly floodingSigma: number;
      readonly flagged: readonly { readonly position: number; readonly reason: "residual"; readonly details: string }[];
    };
  };
}

/** The φ the pool is shared over: the released φ, with 0 for a provider whose local model failed the residual check. */
export function payablePhi(valuation: NonNullable<TrainingReleaseRecord["valuation"]>): number[] {
  const flagged = new Set(valuation.residuals.flagged.map((f) => f.position));
  return valuation.phi.map((phi, k) => (flagged.has(k) ? 0 : phi));
}

/** What the coprocessor publishes after the unmask: Enc_buyer(W). */
export interface TrainingModelRecord {
  readonly kind: "ciphershare.training-model";
  readonly version: 1;
  readonly round: string;
  readonly u: Hex;
  /** keccak256 of the envelope of Enc_buyer(W). */
  readonly model: Hex;
}

function decodeRecord<T extends { kind: string; version: number }>(bytes: Uint8Array, kind: T["kind"]): T {
  const value = parseJsonRecord(bytes, kind) as T;
  if (value?.kind !== kind || value.version !== 1) {
    throw new TrainingRoleError(`Not a ${kind} record.`, { details: JSON.stringify(value)?.slice(0, 160) });
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------- coprocessor

const REJECTION_REASON: Record<TrainingRejection, ExclusionReasonCode> = {
  shape: ExclusionReason.Malformed,
  "non-finite": ExclusionReason.Malformed,
  "row-count": ExclusionReason.Policy,
  dp: ExclusionReason.Policy,
  model: ExclusionReason.Policy,
};

const REASON_NAMES: Record<number, string> = {
  [ExclusionReason.BlobMissing]: "blob-missing",
  [ExclusionReason.HashMismatch]: "hash-mismatch",
  [ExclusionReason.Malformed]: "malformed",
  [ExclusionReason.Policy]: "policy",
};

/** The mask as the coprocessor keeps it (its own workspace, never published). */
interface StoredMask {
  readonly round: string;
  readonly alpha: number;
  readonly m: number[];
  readonly n: number[];
  readonly s: number[];
}

function saveMask(path: string, roundId: bigint, mask: TrainingMask): void {
  const stored: StoredMask = {
    round: roundId.toString(),
    alpha: mask.alpha,
    m: Array.from(mask.m.data),
    n: Array.from(mask.n.data),
    s: Array.from(mask.s.data),
  };
  writeJsonFile(path, stored);
  chmodSync(path, 0o600);
}

function loadMask(path: string, roundId: bigint, shape: TrainingShape): TrainingMask {
  if (!existsSync(path)) {
    throw new TrainingRoleError("This coprocessor holds no mask for the round (it did not publish it).", {
      details: path,
    });
  }
  const stored = JSON.parse(readFileSync(path, "utf8")) as StoredMask;
  if (stored.round !== roundId.toString()) {
    throw new TrainingRoleError("The stored mask is another round's.", { details: `${stored.round}, ${roundId}` });
  }
  const d = shape.features;
  const c = shape.outputs;
  return {
    alpha: stored.alpha,
    m: { rows: d, cols: d, data: Float64Array.from(stored.m) },
    n: { rows: d, cols: d, data: Float64Array.from(stored.n) },
    s: { rows: c, cols: c, data: Float64Array.from(stored.s) },
  };
}

async function loadBundle(ctx: CkksContext, store: BlobStore, hash: Hex, what: string): Promise<LoadedPublicBundle> {
  const bundle = await loadPublicBundle(ctx, await readBundleBytes(store, hash));
  if (!sameHash(bundle.hash, hash) || bundle.galoisKeys === undefined) {
    bundle.dispose();
    throw new TrainingRoleError(`The stored ${what} bundle is not the program's, or has no rotation keys.`, {
      details: `stored ${bundle.hash}, program ${hash}`,
    });
  }
  return bundle;
}

export interface PublishedTrainingSystem {
  readonly maskedSystem: Hex;
  readonly record: TrainingRoundRecord;
  readonly recordHash: Hex;
  readonly reasons: Hex;
  readonly seconds: { readonly aggregate: number; readonly mask: number; readonly valuation?: number };
}

/** The terms' validation blob, checked against its hash, with the kernel and map of the included row counts. */
async function valuationSetup(
  store: BlobStore,
  valuation: TrainingValuationTerms,
  shape: TrainingShape,
  rowCounts: readonly number[],
): Promise<ReturnType<typeof trainingValuationSetup>> {
  const bytes = await store.get(valuation.validation);
  if (!sameHash(await keccak256(bytes), valuation.validation)) {
    throw new TrainingRoleError("The stored validation set does not hash to the terms' validation hash.", {
      details: valuation.validation,
    });
  }
  return trainingValuationSetup(decodeDataset(bytes), shape, rowCounts);
}

/**
 * The coprocessor's step once the round is Closed: every revealed upload is checked against the program's d × c
 * and its committed row count (else excluded: Malformed for a bad shape or unparseable bytes, Policy for a row count
 * that is not the committed one, BlobMissing / HashMismatch as for contributions); the included ones are summed with
 * λnI and masked two-sided with a fresh mask (kept in `maskFile`); the masked system's envelope and the round record
 * are stored and committed on-chain with `publishResults`.
 */
export async function publishTrainingSystem(
  deployment: Deployment,
  coprocessor: ChainSigner,
  store: BlobStore,
  roundId: bigint,
  maskFile: string,
  options: { readonly workers?: number } = {},
): Promise<PublishedTrainingSystem> {
  const round = await readRound(deployment, coprocessor.reader, roundId);
  if (round.phase !== RoundPhase.Closed) {
    throw new TrainingRoleError("The round is not Closed: nothing to publish now.", {
      details: `round ${roundId}, phase ${ROUND_PHASE_NAMES[round.phase]}`,
    });
  }
  const { program, terms, shape } = await readTrainingProgram(deployment, coprocessor.reader, store, round.programId);
  const commitments = await readCommitments(coprocessor.reader, deployment, roundId);
  const ctx = await CkksContext.create(TRAINING_PARAMETER_SET);
  const loaded: { commitment: RoundCommitment; upload: VerifiedUpload }[] = [];
  const requireModel = terms.valuation !== undefined;
  try {
    const verdicts = new Map<number, ExclusionReasonCode>();
    const excluded: { index: number; reason: string; details: string }[] = [];
    const exclude = (c: RoundCommitment, reason: ExclusionReasonCode, details: string) => {
      verdicts.set(c.index, reason);
      excluded.push({ index: c.index, reason: REASON_NAMES[reason], details });
    };
    for (const c of commitments.filter((x) => x.status === CommitmentStatus.Revealed)) {
      if (!(await store.has(c.ciphertextHash))) {
        exclude(c, ExclusionReason.BlobMissing, `no blob ${c.ciphertextHash}`);
        continue;
      }
      const bytes = await store.get(c.ciphertextHash);
      if (!sameHash(await keccak256(bytes), c.ciphertextHash)) {
        exclude(c, ExclusionReason.HashMismatch, `stored bytes do not hash to ${c.ciphertextHash}`);
        continue;
      }
      try {
        loaded.push({ commitment: c, upload: verifyUpload(ctx, bytes, shape, c.sampleCount, { requireModel }) });
      } catch (error) {
        if (!(error instanceof TrainingInputError)) throw error;
        exclude(c, REJECTION_REASON[error.reason], `${error.reason}: ${error.message}`);
      }
    }
    if (loaded.length === 0) {
      throw new TrainingRoleError("No provider's upload survived the checks: nothing to train on.", {
        details: excluded.map((e) => `#${e.index} ${e.reason} (${e.details})`).join("; "),
      });
    }
    const rowCounts = loaded.map((l) => l.commitment.sampleCount);
    const totalRows = rowCounts.reduce((a, b) => a + b, 0);
    const bundle = await loadBundle(ctx, store, program.publicKeyHash, "program");
    try {
      const aggregateStarted = performance.now();
      const system = aggregateSystem(
        ctx,
        loaded.map((l) => l.upload.statistics),
        rowCounts,
        terms.lambda,
      );
      const maskStarted = performance.now();
      let envelope: Uint8Array;
      try {
        const mask = drawMask(shape, totalRows);
        const masked = maskedSystem(ctx, bundle.galoisKeys!, system, mask, shape);
        try {
          envelope = await matrixEnvelope(ctx, masked, program.publicKeyHash);
        } finally {
          masked.dispose();
        }
        saveMask(maskFile, roundId, mask);
      } finally {
        system.dispose();
      }
      const maskDone = performance.now();
      const maskedHash = await store.put(envelope);
      const reasons = publicationReasons(commitments, verdicts);
      const included = commitments.filter((c) => reasons[c.index] === ExclusionReason.None);
      const roundInputs = await inputsHash(included);
      let valuation: TrainingRoundRecord["valuation"];
      if (terms.valuation !== undefined) {
        // Enc(φ) of the local models with the federated rounds' encrypted Shapley machinery (exact map, weights n_k).
        const { kernel, map } = await valuationSetup(store, terms.valuation, shape, rowCounts);
        const result = await computeEncryptedScores({
          parameterSetId: TRAINING_PARAMETER_SET,
          bundle: await readBundleBytes(store, program.publicKeyHash),
          models: loaded.map((l) => l.upload.model!),
          kernel,
          map,
          workers: options.workers,
        });
        const scores = await store.put(await scoreEnvelope(ctx, program.publicKeyHash, result.scores, map));
        const residuals = await publishResiduals(deployment, coprocessor.reader, store, {
          ctx,
          bundle,
          roundId,
          roundInputs,
          loaded,
          lambda: terms.lambda,
          shape,
          publicKeyHash: program.publicKeyHash,
        });
        valuation = { scores, validation: terms.valuation.validation, residuals };
      }
      const valuationDone = performance.now();
      const record: TrainingRoundRecord = {
        kind: "ciphershare.training-round",
        version: 1,
        round: roundId.toString(),
        maskedSystem: maskedHash,
        included: included.map((c) => ({ index: c.index, rows: c.sampleCount })),
        totalRows,
        excluded,
        ...(valuation === undefined ? {} : { valuation }),
      };
      const recordHash = await store.put(encodeJsonRecord(record));
      const reasonsHex = bytesToHex(reasons);
      await mined(
        coprocessor.reader,
        contractsFor(deployment, coprocessor).rounds.write.publishResults([
          roundId,
          maskedHash,
          recordHash,
          roundInputs,
          reasonsHex,
        ]),
      );
      return {
        maskedSystem: maskedHash,
        record,
        recordHash,
        reasons: reasonsHex,
        seconds: {
          aggregate: (maskStarted - aggregateStarted) / 1000,
          mask: (maskDone - maskStarted) / 1000,
          ...(valuation === undefined ? {} : { valuation: (valuationDone - maskDone) / 1000 }),
        },
      };
    } finally {
      bundle.dispose();
    }
  } finally {
    for (const l of loaded) l.upload.dispose();
    ctx.dispose();
  }
}

/**
 * Enc(ρ_k) of each loaded upload's local model against its statistics (`residual.ts#encryptedResidual`), for the
 * round's public challenge (inputs hash and the closing block's hash), stored as one envelope.
 */
async function publishResiduals(
  deployment: Deployment,
  reader: ChainReader,
  store: BlobStore,
  options: {
    readonly ctx: CkksContext;
    readonly bundle: LoadedPublicBundle;
    readonly roundId: bigint;
    readonly roundInputs: Hex;
    readonly loaded: readonly { readonly commitment: RoundCommitment; readonly upload: VerifiedUpload }[];
    readonly lambda: number;
    readonly shape: TrainingShape;
    readonly publicKeyHash: Hex;
  },
): Promise<NonNullable<TrainingRoundRecord["valuation"]>["residuals"]> {
  const { ctx, bundle, shape } = options;
  const closing = await readRoundClosedBlock(reader, deployment, options.roundId);
  if (closing === undefined) {
    throw new TrainingRoleError("The round has no RoundClosed log: no residual challenge yet.", {
      details: `round ${options.roundId}`,
    });
  }
  const seed = await residualChallengeSeed(options.roundInputs, closing.blockHash);
  const challenge = residualChallenge(shape, residualSeedNumber(seed));
  const residuals: Ciphertext[] = [];
  try {
    for (const { commitment, upload } of options.loaded) {
      const model = ctx.loadCiphertext(upload.model!);
      try {
        residuals.push(
          encryptedResidual(
            ctx,
            { galoisKeys: bundle.galoisKeys!, relinKeys: bundle.relinKeys },
            upload.statistics,
            model,
            commitment.sampleCount,
            options.lambda,
            challenge,
            shape,
          ),
        );
      } finally {
        model.delete();
      }
    }
    const envelope = await store.put(await residualEnvelope(ctx, options.publicKeyHash, residuals));
    return { envelope, closingBlock: Number(closing.blockNumber), seed };
  } finally {
    deleteAll(...residuals);
  }
}

/**
 * The round record of a published round, checked against the chain: it names the round's aggregate as its masked
 * system, and its included commitments are exactly the revealed ones with their committed row counts, as many as
 * the publication included.
 */
export async function readTrainingRoundRecord(
  deployment: Deployment,
  reader: ChainReader,
  store: BlobStore,
  roundId: bigint,
): Promise<TrainingRoundRecord> {
  const round = await readRound(deployment, reader, roundId);
  const record = decodeRecord<TrainingRoundRecord>(await store.get(round.scoresHash), "ciphershare.training-round");
  if (!isBytes32Hex(record.maskedSystem) || !sameHash(record.maskedSystem, round.aggregateHash)) {
    throw new TrainingRoleError("The round record names another masked system than the round's aggregate.", {
      details: `record ${record.maskedSystem}, chain ${round.aggregateHash}`,
    });
  }
  const commitments = await readCommitments(reader, deployment, roundId);
  const rows = record.included.map((i) => {
    const c = commitments[i.index];
    if (c?.status !== CommitmentStatus.Revealed || c.sampleCount !== i.rows) {
      throw new TrainingRoleError("The round record's included providers are not the chain's.", {
        details: `commitment ${i.index}: ${i.rows} rows`,
      });
    }
    return c.sampleCount;
  });
  if (
    record.valuation !== undefined &&
    (!isBytes32Hex(record.valuation.scores) || !isBytes32Hex(record.valuation.residuals?.envelope ?? ""))
  ) {
    throw new TrainingRoleError("The round record's valuation names no score or residual envelope.", {
      details: `${String(record.valuation.scores)}, ${String(record.valuation.residuals?.envelope)}`,
    });
  }
  if (record.included.length !== round.includedCount || rows.reduce((a, b) => a + b, 0) !== record.totalRows) {
    throw new TrainingRoleError("The round record's counts are not the publication's.", {
      details: `${record.included.length} included (chain ${round.includedCount}), ${record.totalRows} rows`,
    });
  }
  return record;
}

// ---------------------------------------------------------------------------------------------------- custodian

export interface TrainingReleaseOptions {
  readonly deployment: Deployment;
  readonly signer: ChainSigner;
  readonly store: BlobStore;
  readonly keystorePath: string;
  readonly passphrase: string;
  /** The custodian's journal and fhEVM client: with both, a valued round's funded pool is settled after the release. */
  readonly state?: StateStore;
  readonly fhevm?: FhevmClient;
  readonly log?: (line: string) => void;
}

export interface ReleasedTraining {
  readonly releaseHash: Hex;
  readonly record: TrainingReleaseRecord;
  readonly seconds: { readonly decrypt: number; readonly solve: number };
  /** For a valued round, with a journal and an fhEVM client: whether the pool is settled or still unfunded. */
  readonly settlement?: "released" | "settled";
}

/**
 * The decryption policy of a training round: the chain's committed outputs (the masked system, the round record),
 * plus the score envelope the round record names — committed through that record, so only once the chain lists
 * the record itself (a Finalized round of a program this custodian accepted).
 */
export class TrainingRoundCommitments implements RoundCommitmentSource {
  constructor(
    /** The chain's view (`ChainRoundCommitments`): outputs only of a Finalized round of an accepted program. */
    private readonly chain: RoundCommitmentSource,
    /** The round record's hash and the envelopes it commits to (Enc(φ), Enc(ρ)), if any. */
    private readonly record: { readonly roundId: bigint; readonly hash: Hex; readonly committed: readonly Hex[] },
  ) {}

  async outputCommitments(roundId: bigint): Promise<readonly Hex[]> {
    const outputs = await this.chain.outputCommitments(roundId);
    const { committed } = this.record;
    if (roundId !== this.record.roundId || committed.length === 0) return outputs;
    return outputs.some((o) => sameHash(o, this.record.hash)) ? [...outputs, ...committed] : outputs;
  }

  inputCommitments(roundId: bigint): Promise<readonly Hex[]> {
    return this.chain.inputCommitments(roundId);
  }
}

/**
 * The custodian's step once the round is Finalized: decrypts the round's committed masked system (and nothing
 * else: `decryptOutput` refuses any hash the chain did not commit as an output), flooded for the bound of
 * `maskedSystemRelease`; solves U = P⁻¹Q; encrypts U under the buyer's bundle (the program's `buyerKeyHash`); stores
 * it and anchors the release record.
 */
export async function releaseTrainingModel(
  options: TrainingReleaseOptions,
  roundId: bigint,
): Promise<ReleasedTraining> {
  const { deployment, signer, store } = options;
  const reader = signer.reader;
  const round = await readRound(deployment, reader, roundId);
  if (round.phase !== RoundPhase.Finalized) {
    throw new TrainingRoleError("Only a Finalized round's masked system is released.", {
      details: `round ${roundId}, phase ${ROUND_PHASE_NAMES[round.phase]}`,
    });
  }
  if (!(await contractsToRead(deployment, reader).rounds.read.hasAccepted([round.programId, signer.address]))) {
    throw new TrainingRoleError("This custodian has not accepted the round's program.", {
      details: `program ${round.programId}, custodian ${signer.address}`,
    });
  }
  const { program, shape, terms } = await readTrainingProgram(deployment, reader, store, round.programId);
  const record = await readTrainingRoundRecord(deployment, reader, store, roundId);
  if (BigInt(round.releaseHash) !== 0n) {
    // Released before (the pool was not funded then): settle from the anchored record.
    const anchored = decodeRecord<TrainingReleaseRecord>(
      await store.get(round.releaseHash),
      "ciphershare.training-release",
    );
    return {
      releaseHash: round.releaseHash,
      record: anchored,
      seconds: { decrypt: 0, solve: 0 },
      ...(await settleTraining(options, roundId, anchored)),
    };
  }
  const ctx = await CkksContext.create(TRAINING_PARAMETER_SET);
  const custodian = await KeyCustodian.open(ctx, await readFile(options.keystorePath, "utf8"), options.passphrase, {
    commitments: new TrainingRoundCommitments(new ChainRoundCommitments(deployment, reader, signer.address), {
      roundId,
      hash: round.scoresHash,
      committed: record.valuation === undefined ? [] : [record.valuation.scores, record.valuation.residuals.envelope],
    }),
  });
  try {
    const started = performance.now();
    const released = await custodian.decryptOutput(
      roundId,
      await store.get(round.aggregateHash),
      maskedSystemRelease(ctx, shape, { providers: record.included.length, totalRows: record.totalRows }),
    );
    const decrypted = performance.now();
    const masked = matrixFromSlots(systemLayout(shape, ctx.slotCount), released.values, released.valueScale);
    const u = solveMaskedSystem(masked, shape);
    const buyer = await loadBundle(ctx, store, program.buyerKeyHash, "buyer");
    let uHash: Hex;
    try {
      const encrypted = encryptForBuyer(ctx, u, shape, buyer.encryptor);
      try {
        uHash = await store.put(await matrixEnvelope(ctx, encrypted, program.buyerKeyHash));
      } finally {
        encrypted.dispose();
      }
    } finally {
      buyer.dispose();
    }
    let valuation: TrainingReleaseRecord["valuation"];
    if (record.valuation !== undefined) {
      if (terms.valuation === undefined) {
        throw new TrainingRoleError("The round record values providers, the program's terms do not.", {
          details: `round ${roundId}`,
        });
      }
      // φ: the same policy (committed through the round record), flooded for the bound of the valuation.
      const rowCounts = record.included.map((i) => i.rows);
      const { kernel, map } = await valuationSetup(store, terms.valuation, shape, rowCounts);
      const output = await custodian.decryptOutput(
        roundId,
        await store.get(record.valuation.scores),
        scoresRelease(ctx, kernel, map, terms.valuation.modelNormBound),
      );
      const commitments = await readCommitments(reader, deployment, roundId);
      // ρ: the same policy (committed through the round record), flooded for the residual's public error bound.
      const residualInputs = rowCounts.map((rows) => ({
        rows,
        lambda: terms.lambda,
        modelNormBound: terms.valuation!.modelNormBound,
      }));
      const residualBounds = residualRelease(ctx, shape, residualInputs);
      const residualOutput = await custodian.decryptOutput(
        roundId,
        await store.get(record.valuation.residuals.envelope),
        residualBounds,
      );
      const residualSigma = residualOutput.floodingSigma * residualOutput.valueScale;
      // Every slot of an Enc(ρ_k) holds ρ_k: a chunk that does not is refused (a coprocessor's substitution).
      const spread = 8 * residualSigma + 2 * Math.max(...residualBounds.errorBounds);
      const rho = residualsFromRelease(residualOutput, record.included.length, spread);
      const tolerance = residualBounds.errorBounds.map((bound) =>
        residualTolerance(bound, residualSigma, ctx.slotCount),
      );
      valuation = {
        scores: record.valuation.scores,
        providers: record.included.map((i) => commitments[i.index].contributor),
        phi: scoresFromRelease(output, record.included.length).phi,
        floodingSigma: output.floodingSigma * output.valueScale,
        residuals: {
          envelope: record.valuation.residuals.envelope,
          rho,
          tolerance,
          floodingSigma: residualSigma,
          flagged: flaggedResiduals(rho, tolerance).map((position) => ({
            position,
            reason: "residual" as const,
            details: `|ρ| = ${Math.abs(rho[position]).toExponential(3)} > ${tolerance[position].toExponential(3)}: the local model is not the ridge model of the uploaded statistics`,
          })),
        },
      };
    }
    const releaseRecord: TrainingReleaseRecord = {
      kind: "ciphershare.training-release",
      version: 1,
      round: roundId.toString(),
      maskedSystem: round.aggregateHash,
      u: uHash,
      floodingSigma: released.floodingSigma * released.valueScale,
      ...(valuation === undefined ? {} : { valuation }),
    };
    const releaseHash = await store.put(encodeJsonRecord(releaseRecord));
    const solved = performance.now();
    await mined(reader, contractsFor(deployment, signer).rounds.write.anchorRelease([roundId, releaseHash]));
    return {
      releaseHash,
      record: releaseRecord,
      seconds: { decrypt: (decrypted - started) / 1000, solve: (solved - decrypted) / 1000 },
      ...(await settleTraining(options, roundId, releaseRecord)),
    };
  } finally {
    custodian.dispose();
    ctx.dispose();
  }
}

/**
 * Pays the buyer's payment (the round's pool) to the valued providers with the federated rounds' settlement
 * (`settlePool`: largest-remainder shares over the released φ, encrypted on-chain, journaled); nothing without a
 * valuation, a journal or an fhEVM client.
 */
async function settleTraining(
  options: TrainingReleaseOptions,
  roundId: bigint,
  record: TrainingReleaseRecord,
): Promise<{ settlement?: "released" | "settled" }> {
  const { valuation } = record;
  if (valuation === undefined || options.state === undefined || options.fhevm === undefined) return {};
  const role: CustodianRoleOptions = { ...options, state: options.state, fhevm: options.fhevm };
  const phi = payablePhi(valuation);
  return { settlement: await settlePool(role, roundId, valuation.providers, () => phi) };
}

// ---------------------------------------------------------------------------------------------------- unmask

export interface UnmaskedTraining {
  readonly modelHash: Hex;
  readonly recordHash: Hex;
  readonly record: TrainingModelRecord;
}

/**
 * The coprocessor's last step, after the custodian anchored its release: Enc_buyer(W) = N·U·Sᵀ with its own mask,
 * under the buyer's rotation keys; stores the model envelope and a model record.
 */
export async function unmaskTrainingModel(
  deployment: Deployment,
  reader: ChainReader,
  store: BlobStore,
  roundId: bigint,
  maskFile: string,
): Promise<UnmaskedTraining> {
  const round = await readRound(deployment, reader, roundId);
  if (/^0x0*$/.test(round.releaseHash)) {
    throw new TrainingRoleError("The custodian has not anchored the round's release yet.", {
      details: `round ${roundId}`,
    });
  }
  const { program, shape } = await readTrainingProgram(deployment, reader, store, round.programId);
  const release = decodeRecord<TrainingReleaseRecord>(
    await store.get(round.releaseHash),
    "ciphershare.training-release",
  );
  const mask = loadMask(maskFile, roundId, shape);
  const ctx = await CkksContext.create(TRAINING_PARAMETER_SET);
  try {
    const buyer = await loadBundle(ctx, store, program.buyerKeyHash, "buyer");
    try {
      const layout = modelLayout(shape, ctx.slotCount);
      const u = await loadMatrixEnvelope(ctx, await store.get(release.u), layout, program.buyerKeyHash);
      let modelHash: Hex;
      try {
        const w = unmaskModel(ctx, buyer.galoisKeys!, u, mask, shape);
        try {
          modelHash = await store.put(await matrixEnvelope(ctx, w, program.buyerKeyHash));
        } finally {
          w.dispose();
        }
      } finally {
        u.dispose();
      }
      const record: TrainingModelRecord = {
        kind: "ciphershare.training-model",
        version: 1,
        round: roundId.toString(),
        u: release.u,
        model: modelHash,
      };
      return { modelHash, recordHash: await store.put(encodeJsonRecord(record)), record };
    } finally {
      buyer.dispose();
    }
  } finally {
    ctx.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------- buyer

/**
 * The buyer decrypts W from the model record's envelope with the secret key sealed in its keystore. Any other key
 * (the custodian's, a fresh one) fails: `decryptModelWith` is the same step with a given secret key, for tests.
 */
export async function decryptTrainingModel(
  store: BlobStore,
  modelRecordHash: Hex,
  keystorePath: string,
  passphrase: string,
  shape: TrainingShape,
): Promise<Matrix> {
  const { secretKey, metadata } = await openKeystore(await readFile(keystorePath, "utf8"), passphrase);
  try {
    return await decryptModelWith(store, modelRecordHash, secretKey, metadata.publicBundleHash, shape);
  } finally {
    secretKey.fill(0);
  }
}

/** W from a model record with a serialized secret key; the envelope must be under `publicBundleHash`. */
export async function decryptModelWith(
  store: BlobStore,
  modelRecordHash: Hex,
  secretKey: Uint8Array,
  publicBundleHash: Hex,
  shape: TrainingShape,
): Promise<Matrix> {
  const record = decodeRecord<TrainingModelRecord>(await store.get(modelRecordHash), "ciphershare.training-model");
  const ctx = await CkksContext.create(TRAINING_PARAMETER_SET);
  try {
    return await decryptModelEnvelope(ctx, await store.get(record.model), secretKey, publicBundleHash, shape);
  } finally {
    ctx.dispose();
  }
}
