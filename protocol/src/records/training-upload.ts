// A data provider's upload to a training program and its byte form, "CST1": Enc([A_k | B_k]) row-packed, then
// (model section, version 1) Enc(vec(W_k)), the provider's own ridge model, for the round's valuation.
import { InvalidInputError } from "../errors";
import { getParameterSetByNumericId, getParameterSet } from "../ckks/params";

/**
 * What a provider uploads: the SEAL ciphertexts of its [XᵀX | XᵀY] (d × (d+c), row-packed, in order), with the
 * program shape and the public row count it commits to. The ciphertexts are checked against the program's
 * context by whoever loads them; this record only frames them.
 */
export interface TrainingUpload {
  readonly parameterSetId: string;
  readonly features: number;
  readonly outputs: number;
  readonly rows: number;
  readonly ciphertexts: readonly Uint8Array[];
  /** The provider's local ridge model W_k = (A_k + λn_kI)⁻¹B_k, encrypted (absent: an upload without valuation). */
  readonly model?: TrainingUploadModel;
}

/**
 * The model section: `rows × cols` (d × c for a well-formed upload) packed row-major in the first d·c slots of
 * each ciphertext in order (one ciphertext whenever d·c fits the slots), as the encrypted Shapley valuation reads it.
 */
export interface TrainingUploadModel {
  readonly version: typeof TRAINING_UPLOAD_MODEL_VERSION;
  readonly rows: number;
  readonly cols: number;
  readonly ciphertexts: readonly Uint8Array[];
}

/** The one model-section version this code writes and reads. */
export const TRAINING_UPLOAD_MODEL_VERSION = 1;

const MAGIC = [0x43, 0x53, 0x54, 0x31]; // "CST1"
/** magic(4) parameterSet(1) features(4) outputs(4) rows(4) count(4). */
const HEADER = 21;
/** Far above one N = 16384 ciphertext (1.3 MB uncompressed), bounded before slicing. */
const MAX_CIPHERTEXT_BYTES = 2 ** 24;
/** d ≤ 8192 rows at one row per ciphertext at most. */
const MAX_CIPHERTEXTS = 8192;
/** Model section header: version(1) rows(4) cols(4) count(4). */
const MODEL_HEADER = 13;
/** A d × c model with d ≤ 8192 fits in far fewer. */
const MAX_MODEL_CIPHERTEXTS = 64;

/** The upload's deterministic bytes (big-endian; each ciphertext as u32 length + bytes). */
export function serializeTrainingUpload(upload: TrainingUpload): Uint8Array {
  const set = getParameterSet(upload.parameterSetId);
  for (const [name, value] of [
    ["features", upload.features],
    ["outputs", upload.outputs],
    ["rows", upload.rows],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) {
      throw new InvalidInputError(`A training upload's ${name} must be a positive 32-bit integer.`, {
        details: `${name} = ${value}`,
      });
    }
  }
  if (upload.ciphertexts.length === 0 || upload.ciphertexts.length > MAX_CIPHERTEXTS) {
    throw new InvalidInputError("A training upload needs between 1 and 8192 ciphertexts.", {
      details: `${upload.ciphertexts.length}`,
    });
  }
  const model = upload.model;
  if (model !== undefined) {
    if (model.version !== TRAINING_UPLOAD_MODEL_VERSION) {
      throw new InvalidInputError("Unknown training upload model version.", { details: `${model.version}` });
    }
    for (const [name, value] of [
      ["model rows", model.rows],
      ["model cols", model.cols],
    ] as const) {
      if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) {
        throw new InvalidInputError(`A training upload's ${name} must be a positive 32-bit integer.`, {
          details: `${name} = ${value}`,
        });
      }
    }
    if (model.ciphertexts.length === 0 || model.ciphertexts.length > MAX_MODEL_CIPHERTEXTS) {
      throw new InvalidInputError(
        `A training upload's model needs between 1 and ${MAX_MODEL_CIPHERTEXTS} ciphertexts.`,
        {
          details: `${model.ciphertexts.length}`,
        },
      );
    }
  }
  const framed = (parts: readonly Uint8Array[]) => parts.reduce((sum, c) => sum + 4 + c.length, 0);
  const total =
    HEADER + framed(upload.ciphertexts) + (model === undefined ? 0 : MODEL_HEADER + framed(model.ciphertexts));
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint8(4, set.numericId);
  view.setUint32(5, upload.features);
  view.setUint32(9, upload.outputs);
  view.setUint32(13, upload.rows);
  view.setUint32(17, upload.ciphertexts.length);
  let offset = HEADER;
  const write = (parts: readonly Uint8Array[]) => {
    for (const ciphertext of parts) {
      view.setUint32(offset, ciphertext.length);
      out.set(ciphertext, offset + 4);
      offset += 4 + ciphertext.length;
    }
  };
  write(upload.ciphertexts);
  if (model !== undefined) {
    view.setUint8(offset, model.version);
    view.setUint32(offset + 1, model.rows);
    view.setUint32(offset + 5, model.cols);
    view.setUint32(offset + 9, model.ciphertexts.length);
    offset += MODEL_HEADER;
    write(model.ciphertexts);
  }
  return out;
}

/** Parses `serializeTrainingUpload` output, bounding every length first; the ciphertexts are views, not copies. */
export function parseTrainingUpload(bytes: Uint8Array): TrainingUpload {
  const fail = (problem: string, details?: string): never => {
    throw new InvalidInputError(`Malformed training upload: ${problem}.`, { details });
  };
  if (bytes.length < HEADER) fail("too short", `${bytes.length} bytes`);
  if (MAGIC.some((byte, i) => bytes[i] !== byte)) fail("bad magic (not a CipherShare training upload)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const set = getParameterSetByNumericId(view.getUint8(4));
  const features = view.getUint32(5);
  const outputs = view.getUint32(9);
  const rows = view.getUint32(13);
  const count = view.getUint32(17);
  if (features === 0 || outputs === 0 || rows === 0)
    fail("zero features, outputs or rows", `${features}, ${outputs}, ${rows}`);
  if (count === 0 || count > MAX_CIPHERTEXTS) fail("ciphertext count out of range", `${count}`);
  let offset = HEADER;
  const read = (n: number, what: string): Uint8Array[] => {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      if (offset + 4 > bytes.length) fail(`truncated before ${what} ${i}`);
      const length = view.getUint32(offset);
      if (length > MAX_CIPHERTEXT_BYTES || offset + 4 + length > bytes.length) {
        fail(`${what} ${i} length out of bounds`, `${length} bytes at offset ${offset}`);
      }
      parts.push(bytes.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    return parts;
  };
  const ciphertexts = read(count, "ciphertext");
  const upload = { parameterSetId: set.id, features, outputs, rows, ciphertexts };
  if (offset === bytes.length) return upload;
  if (offset + MODEL_HEADER > bytes.length)
    fail("trailing bytes", `${bytes.length - offset} after the last ciphertext`);
  const version = view.getUint8(offset);
  if (version !== TRAINING_UPLOAD_MODEL_VERSION) fail("unknown model section version", `${version}`);
  const modelRows = view.getUint32(offset + 1);
  const modelCols = view.getUint32(offset + 5);
  const modelCount = view.getUint32(offset + 9);
  if (modelRows === 0 || modelCols === 0) fail("zero model rows or cols", `${modelRows} × ${modelCols}`);
  if (modelCount === 0 || modelCount > MAX_MODEL_CIPHERTEXTS)
    fail("model ciphertext count out of range", `${modelCount}`);
  offset += MODEL_HEADER;
  const model: TrainingUploadModel = {
    version: TRAINING_UPLOAD_MODEL_VERSION,
    rows: modelRows,
    cols: modelCols,
    ciphertexts: read(modelCount, "model ciphertext"),
  };
  if (offset !== bytes.length) fail("trailing bytes", `${bytes.length - offset} after the model`);
  return { ...upload, model };
}
