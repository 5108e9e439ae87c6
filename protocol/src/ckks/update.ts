import { checkModelUpdateValues, manifestSize, type ModelUpdate } from "../formats/model-update";
import type { CkksContext } from "./context";
import { buildEnvelope, EnvelopeError, EnvelopeKind, type ParsedEnvelope } from "./envelope";
import { MalformedKeyMaterialError } from "./errors";
import type { EncryptionKey } from "./keys";
import type { Ciphertext } from "./seal";

/**
 * Encrypts a model update under the bundle's public key (the contributor's step): values are cut into
 * `slotCount`-sized chunks, the last zero-padded, each encrypted and serialized; the envelope records
 * the bundle hash and the tensor shapes. Only one ciphertext lives in WASM at a time.
 */
export async function encryptModelUpdate(
  ctx: CkksContext,
  bundle: Pick<EncryptionKey, "parameterSetId" | "hash" | "encryptor">,
  update: ModelUpdate,
  onChunk?: (done: number, total: number) => void,
): Promise<Uint8Array> {
  const valueCount = manifestSize(update.tensors);
  checkModelUpdateValues(update, valueCount);
  if (bundle.parameterSetId !== ctx.parameterSet.id) {
    throw new MalformedKeyMaterialError("The public bundle is for another parameter set than the context.", {
      details: `bundle ${bundle.parameterSetId}, context ${ctx.parameterSet.id}`,
    });
  }
  const chunks: Uint8Array[] = [];
  const total = Math.ceil(update.values.length / ctx.slotCount);
  for (let start = 0; start < update.values.length; start += ctx.slotCount) {
    const ciphertext = ctx.encrypt(update.values.subarray(start, start + ctx.slotCount), bundle.encryptor);
    try {
      chunks.push(ctx.saveCiphertext(ciphertext));
    } finally {
      ciphertext.delete();
    }
    onChunk?.(chunks.length, total);
  }
  return buildEnvelope(
    {
      kind: EnvelopeKind.Contribution,
      parameterSet: ctx.parameterSet,
      publicBundleHash: bundle.hash,
      scale: ctx.scale,
      coeffModulusSize: ctx.freshCoeffModulusSize,
      ciphertextSize: 2,
      tensors: update.tensors,
      valueCount,
    },
    chunks,
  );
}

/**
 * Loads chunk `index` of a parsed envelope into SEAL (into `into` when given, to reuse its memory),
 * checking it against the header's scale and level. The header was validated and hash-checked by
 * `parseEnvelope`; this catches ciphertext bytes SEAL itself refuses.
 */
export function loadEnvelopeChunk(
  ctx: CkksContext,
  envelope: ParsedEnvelope,
  index: number,
  into?: Ciphertext,
): Ciphertext {
  const { header } = envelope;
  if (header.parameterSetId !== ctx.parameterSet.id) {
    throw new EnvelopeError("wrong-parameter-set", "encrypted under another parameter set than the context.", {
      details: `${header.parameterSetId}, context ${ctx.parameterSet.id}`,
    });
  }
  const expectations = { size: header.ciphertextSize, scale: header.scale, coeffModulusSize: header.coeffModulusSize };
  try {
    if (!into) return ctx.loadCiphertext(envelope.chunks[index], expectations);
    ctx.loadCiphertextInto(into, envelope.chunks[index], expectations);
    return into;
  } catch (error) {
    if (!(error instanceof MalformedKeyMaterialError)) throw error;
    throw new EnvelopeError("bad-ciphertext", `chunk ${index} is not a valid ciphertext.`, {
      details: error.details ?? error.shortMessage,
      cause: error,
    });
  }
}

/** Decrypts every chunk and returns the first `valueCount` slots (custodian side; see custodian/). */
export function decryptEnvelopeValues(
  ctx: CkksContext,
  envelope: ParsedEnvelope,
  decryptor: Parameters<CkksContext["decrypt"]>[1],
): Float64Array {
  const values = new Float64Array(envelope.header.valueCount);
  const ciphertext = new ctx.seal.Ciphertext();
  try {
    for (let i = 0; i < envelope.header.chunkCount; i++) {
      loadEnvelopeChunk(ctx, envelope, i, ciphertext);
      const slots = ctx.decrypt(ciphertext, decryptor);
      const start = i * ctx.slotCount;
      values.set(slots.subarray(0, Math.min(ctx.slotCount, values.length - start)), start);
    }
    return values;
  } finally {
    ciphertext.delete();
  }
}
