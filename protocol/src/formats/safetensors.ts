import {
  ModelFormatError,
  MODEL_UPDATE_LIMITS,
  shapeSize,
  validateModelUpdate,
  type ModelUpdate,
} from "./model-update";

/** The safetensors format caps its JSON header at 100 MB. */
const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;
const ITEM_SIZES: Readonly<Record<string, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Reads a `.safetensors` file (Hugging Face; `safetensors.torch.save_file(model.state_dict(), …)`) of
 * F64/F32/F16/BF16 tensors as a model update. Tensors are ordered by name so the same model always
 * gives the same manifest, whatever order the writer used.
 */
export function parseSafetensors(bytes: Uint8Array): ModelUpdate {
  const fail = (problem: string, details?: string): never => {
    throw new ModelFormatError(`Not a readable .safetensors file: ${problem}.`, { details });
  };
  if (bytes.length < 8) fail("shorter than its 8-byte header length", `${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_SAFETENSORS_HEADER_BYTES, bytes.length - 8))) {
    fail("header length out of bounds", `${headerLength} bytes in a ${bytes.length}-byte file`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    throw new ModelFormatError("Not a readable .safetensors file: the header is not UTF-8 JSON.", {
      details: String(error),
      cause: error,
    });
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("the header is not a JSON object");
  const entries: TensorEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") continue;
    if (entries.length >= MODEL_UPDATE_LIMITS.maxTensors) fail("too many tensors");
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== "object" || info === null) fail("a tensor entry is not an object", name);
    if (typeof info.dtype !== "string" || !(info.dtype in ITEM_SIZES)) {
      fail("unsupported dtype (F64, F32, F16 or BF16 only)", `${name}: ${String(info.dtype)}`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail("bad shape", `${name}: ${JSON.stringify(shape)}`);
    }
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail("bad data_offsets", `${name}: ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const size = shapeSize(shape as number[], `tensor "${name}"`);
    if (end < begin || end - begin !== size * ITEM_SIZES[info.dtype as string] || dataStart + end > bytes.length) {
      fail("data_offsets do not match the shape and the file", `${name}: [${begin}, ${end}]`);
    }
    entries.push({ name, dtype: info.dtype as string, shape: shape as number[], begin, end });
  }
  if (entries.length === 0) fail("no tensors");
  // The format requires the data to be covered exactly, without holes or overlaps.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const entry of byOffset) {
    if (entry.begin !== cursor) fail("tensor data overlaps or leaves a hole", `${entry.name} starts at ${entry.begin}`);
    cursor = entry.end;
  }
  if (dataStart + cursor !== bytes.length) fail("trailing bytes after the last tensor");

  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const total = entries.reduce((sum, e) => sum + shapeSize(e.shape), 0);
  if (total > MODEL_UPDATE_LIMITS.maxValues) fail("too many values", `${total}`);
  const values = new Float64Array(total);
  let offset = 0;
  for (const entry of entries) {
    const read = reader(entry.dtype, view);
    const itemSize = ITEM_SIZES[entry.dtype];
    for (let p = dataStart + entry.begin; p < dataStart + entry.end; p += itemSize) values[offset++] = read(p);
  }
  return validateModelUpdate({ tensors: entries.map(({ name, shape }) => ({ name, shape })), values });
}

/** Writes a model update as F64 safetensors, tensors in manifest order. */
export function serializeSafetensors(update: ModelUpdate): Uint8Array {
  validateModelUpdate(update);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const tensor of update.tensors) {
    const byteLength = shapeSize(tensor.shape) * 8;
    header[tensor.name] = { dtype: "F64", shape: tensor.shape, data_offsets: [offset, offset + byteLength] };
    offset += byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  const dataStart = 8 + headerBytes.length;
  for (let i = 0; i < update.values.length; i++) view.setFloat64(dataStart + 8 * i, update.values[i], true);
  return out;
}

function reader(dtype: string, view: DataView): (offset: number) => number {
  switch (dtype) {
    case "F64":
      return (p) => view.getFloat64(p, true);
    case "F32":
      return (p) => view.getFloat32(p, true);
    case "BF16":
      return (p) => bf16ToNumber(view.getUint16(p, true));
    default:
      return (p) => f16ToNumber(view.getUint16(p, true));
  }
}

const scratch = new DataView(new ArrayBuffer(4));
function bf16ToNumber(bits: number): number {
  scratch.setUint32(0, bits << 16);
  return scratch.getFloat32(0);
}

function f16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
