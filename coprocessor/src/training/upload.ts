import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import type { Encryptor } from "@ciphershare/protocol/ckks/seal";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { parseTrainingUpload, serializeTrainingUpload } from "@ciphershare/protocol/records/training-upload";
import { loadFreshEncryptedMatrix, saveEncryptedMatrix, type EncryptedMatrix } from "./encrypted-matrix";
import { TrainingInputError } from "./errors";
import { systemLayout } from "./keys";
import { encryptStatistics } from "./provider";
import { assertRowCount, type ProviderStatistics, type TrainingShape } from "./statistics";

/** A provider's statistics, encrypted under the program key, as the bytes it uploads ("CST1"). */
export function providerUpload(
  ctx: CkksContext,
  stats: ProviderStatistics,
  shape: TrainingShape,
  encryptor: Encryptor,
): Uint8Array {
  const encrypted = encryptStatistics(ctx, stats, shape, encryptor);
  try {
    return serializeTrainingUpload({
      parameterSetId: ctx.parameterSet.id,
      features: shape.features,
      outputs: shape.outputs,
      rows: stats.rows,
      ciphertexts: saveEncryptedMatrix(ctx, encrypted),
    });
  } finally {
    encrypted.dispose();
  }
}

/**
 * The coprocessor's check of one upload against the program and the row count the provider committed on-chain,
 * then its ciphertexts loaded as fresh ones of the program's context. Every refusal is a `TrainingInputError` whose
 * `reason` is the exclusion reason: `shape` (unparseable bytes, another parameter set, another d × c, the wrong
 * number of ciphertexts, a ciphertext that is not a fresh one of the context), `row-count` (not the committed one).
 */
export function verifyUpload(
  ctx: CkksContext,
  bytes: Uint8Array,
  shape: TrainingShape,
  committedRows: number,
): EncryptedMatrix {
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
  try {
    return loadFreshEncryptedMatrix(ctx, systemLayout(shape, ctx.slotCount), parsed.ciphertexts);
  } catch (error) {
    return refuse("The upload's ciphertexts are not fresh ciphertexts of the program.", error);
  }
}
