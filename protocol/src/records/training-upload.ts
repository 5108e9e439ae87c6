// A data provider's upload to a training program and its byte form, "CST1": Enc([A_k | B_k]) row-packed.
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
}

const MAGIC = [0x43, 0x53, 0x54, 0x31]; // "CST1"
/** magic(4) parameterSet(1) features(4) outputs(4) rows(4) count(4). */
const HEADER = 21;
/** Far above one N = 16384 ciphertext (1.3 MB uncompressed), bounded before slicing. */
const MAX_CIPHERTEXT_BYTES = 2 ** 24;
/** d ≤ 8192 rows at one row per ciphertext at most. */
const MAX_CIPHERTEXTS = 8192;

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
  const total = HEADER + upload.ciphertexts.reduce((sum, c) => sum + 4 + c.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint8(4, set.numericId);
  view.setUint32(5, upload.features);
  view.setUint32(9, upload.outputs);
  view.setUint32(13, upload.rows);
  view.setUint32(17, upload.ciphertexts.length);
  let offset = HEADER;
  for (const ciphertext of upload.ciphertexts) {
    view.setUint32(offset, ciphertext.length);
    out.set(ciphertext, offset + 4);
    offset += 4 + ciphertext.length;
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
  const ciphertexts: Uint8Array[] = [];
  let offset = HEADER;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.length) fail(`truncated before ciphertext ${i}`);
    const length = view.getUint32(offset);
    if (length > MAX_CIPHERTEXT_BYTES || offset + 4 + length > bytes.length) {
      fail(`ciphertext ${i} length out of bounds`, `${length} bytes at offset ${offset}`);
    }
    ciphertexts.push(bytes.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  if (offset !== bytes.length) fail("trailing bytes", `${bytes.length - offset} after the last ciphertext`);
  return { parameterSetId: set.id, features, outputs, rows, ciphertexts };
}
