import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { loadSecretKey } from "@ciphershare/protocol/ckks/keys";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { isBytes32Hex, type Hex } from "@ciphershare/protocol/hex";
import { parseJsonRecord } from "@ciphershare/protocol/records/json";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { decryptMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { assertTrainingShape, modelLayout } from "./keys";
import { loadMatrixEnvelope } from "./release";
import type { TrainingShape } from "@ciphershare/protocol/training/statistics";

/** The hash of Enc_buyer(W)'s envelope that a `ciphershare.training-model` record names. */
export function modelEnvelopeOf(recordBytes: Uint8Array): Hex {
  const record = parseJsonRecord(recordBytes, "ciphershare.training-model") as {
    kind?: unknown;
    version?: unknown;
    model?: unknown;
  } | null;
  if (
    record?.kind !== "ciphershare.training-model" ||
    record.version !== 1 ||
    typeof record.model !== "string" ||
    !isBytes32Hex(record.model)
  ) {
    throw new InvalidInputError("Not a ciphershare.training-model record.", {
      details: JSON.stringify(record)?.slice(0, 160),
    });
  }
  return record.model;
}

/**
 * The buyer's step (`buyer decrypt-model` and the web app's buyer page): W (d × c) from the envelope of Enc_buyer(W)
 * with the buyer's serialized secret key; the envelope must name `publicBundleHash`, the buyer's bundle. Any other key
 * decrypts noise.
 */
export async function decryptModelEnvelope(
  ctx: CkksContext,
  envelope: Uint8Array,
  secretKey: Uint8Array,
  publicBundleHash: Hex,
  shape: TrainingShape,
): Promise<Matrix> {
  assertTrainingShape(shape, ctx.slotCount);
  const key = loadSecretKey(ctx, secretKey);
  try {
    const w = await loadMatrixEnvelope(ctx, envelope, modelLayout(shape, ctx.slotCount), publicBundleHash);
    try {
      return decryptMatrix(ctx, w, key.decryptor);
    } finally {
      w.dispose();
    }
  } finally {
    key.dispose();
  }
}
