import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import type { Encryptor } from "@ciphershare/protocol/ckks/seal";
import { CipherShareError } from "@ciphershare/protocol/errors";
import {
  parseTrainingUpload,
  serializeTrainingUpload,
  TRAINING_UPLOAD_MODEL_VERSION,
  type TrainingUploadModel,
} from "@ciphershare/protocol/records/training-upload";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { encryptModel } from "../shapley/encrypted/client";
import { ridgeFromStatistics } from "./ridge";
import {
  loadFreshEncryptedMatrix,
  saveEncryptedMatrix,
  type EncryptedMatrix,
} from "@ciphershare/protocol/training/encrypted-matrix";
import { TrainingInputError } from "@ciphershare/protocol/training/errors";
import { systemLayout } from "./keys";
import { encryptStatistics } from "./provider";
import { assertRowCount, type ProviderStatistics, type TrainingShape } from "@ciphershare/protocol/training/statistics";

/**
 * What goes with the statistics: `lambda` (the program's λ) adds the provider's local ridge model
 * W_k = (A_k + λn_kI)⁻¹B_k, encrypted, for the round's valuation; `model` uploads that matrix instead (tests of a
 * dishonest or malformed model). Neither: statistics only (a program without valuation).
 */
export interface UploadModelOptions {
  readonly lambda?: number;
  readonly model?: Matrix;
}

/** A provider's statistics (and its local model), encrypted under the program key, as the bytes it uploads ("CST1"). */
export function providerUpload(
  ctx: CkksContext,
  stats: ProviderStatistics,
  shape: TrainingShape,
  encryptor: Encryptor,
  options: UploadModelOptions = {},
): Uint8Array {
  const local =
    options.model ?? (options.lambda === undefined ? undefined : ridgeFromStatistics(stats, options.lambda));
  const model: TrainingUploadModel | undefined =
    local === undefined
      ? undefined
      : {
          version: TRAINING_UPLOAD_MODEL_VERSION,
          rows: local.rows,
          cols: local.cols,
          ciphertexts: [encryptModel(ctx, local, encryptor)],
        };
  const encrypted = encryptStatistics(ctx, stats, shape, encryptor);
  try {
    return serializeTrainingUpload({
      parameterSetId: ctx.parameterSet.id,
      features: shape.features,
      outputs: shape.outputs,
      rows: stats.rows,
      ciphertexts: saveEncryptedMatrix(ctx, encrypted),
      ...(model === undefined ? {} : { model }),
    });
  } finally {
    encrypted.dispose();
  }
}

/** An upload the coprocessor accepted: the statistics as fresh ciphertexts, the local model's fresh ciphertext. */
export interface VerifiedUpload {
  readonly statistics: EncryptedMatrix;
  /** vec(W_k) in the first d·c slots (the encrypted Shapley layout), checked fresh; null when none was uploaded. */
  readonly model: Uint8Array | null;
  dispose(): void;
}

/**
 * The coprocessor's check of one upload against the program and the row count the provider committed on-chain,
 * then its ciphertexts loaded as fresh ones of the program's context. Every refusal is a `TrainingInputError` whose
 * `reason` is the exclusion reason: `shape` (unparseable bytes, another parameter set, another d × c, the wrong
 * number of ciphertexts, a ciphertext that is not a fresh one of the context, a local model that is not d × c in one
 * fresh ciphertext), `row-count` (not the committed one), `model` (no local model where `requireModel`).
 */
export function verifyUpload(
  ctx: CkksContext,
  bytes: Uint8Array,
  shape: TrainingShape,
  committedRows: number,
  options: { readonly requireModel?: boolean } = {},
): VerifiedUpload {
  const refuse = (problem: string, error: unknown): never => {
    const details = error instanceof CipherShareError ? error.message : String(error);
    throw new TrainingInputError("shape", problem, { details, cause: error });
  };
  let upload: ReturnType<typeof parseTrainingUpload> | undefined;
  try {
    upload = parseTrainingUpload(bytes);
  } catch (error) {
    refuse("The upload is not a training upload.", error);
  }
  const parsed = upload!;
  if (parsed.parameterSetId !== ctx.parameterSet.id) {
    throw new TrainingInputError("shape", "The upload is for another parameter set than the program.", {
      details: `${parsed.parameterSetId}, the program uses ${ctx.parameterSet.id}`,
    });
  }
  if (parsed.features !== shape.features || parsed.outputs !== shape.outputs) {
    throw new TrainingInputError("shape", "The upload's d × c is not the program's.", {
      details: `${parsed.features} × ${parsed.outputs}, the program has ${shape.features} × ${shape.outputs}`,
    });
  }
  assertRowCount(committedRows);
  if (parsed.rows !== committedRows) {
    throw new TrainingInputError("row-count", "The upload's row count is not the one committed on-chain.", {
      details: `upload ${parsed.rows}, committed ${committedRows}`,
    });
  }
  const model = verifyModel(ctx, parsed.model, shape, options.requireModel === true);
  let statistics: EncryptedMatrix;
  try {
    statistics = loadFreshEncryptedMatrix(ctx, systemLayout(shape, ctx.slotCount), parsed.ciphertexts);
  } catch (error) {
    return refuse("The upload's ciphertexts are not fresh ciphertexts of the program.", error);
  }
  return { statistics, model, dispose: () => statistics.dispose() };
}

/** The model section's checks: d × c, one ciphertext, fresh at the context's scale; its bytes, or null if absent. */
function verifyModel(
  ctx: CkksContext,
  model: TrainingUploadModel | undefined,
  shape: TrainingShape,
  required: boolean,
): Uint8Array | null {
  if (model === undefined) {
    if (!required) return null;
    throw new TrainingInputError("model", "The upload has no local model, and the program values its providers.");
  }
  if (model.rows !== shape.features || model.cols !== shape.outputs) {
    throw new TrainingInputError("shape", "The upload's local model is not d × c.", {
      details: `${model.rows} × ${model.cols}, the program has ${shape.features} × ${shape.outputs}`,
    });
  }
  if (model.ciphertexts.length !== 1) {
    throw new TrainingInputError("shape", "The upload's local model must be one ciphertext.", {
      details: `${model.ciphertexts.length} ciphertexts`,
    });
  }
  try {
    ctx
      .loadCiphertext(model.ciphertexts[0], { scale: ctx.scale, coeffModulusSize: ctx.freshCoeffModulusSize })
      .delete();
  } catch (error) {
    const details = error instanceof CipherShareError ? error.message : String(error);
    throw new TrainingInputError("shape", "The upload's local model is not a fresh ciphertext of the program.", {
      details,
      cause: error,
    });
  }
  return model.ciphertexts[0];
}
