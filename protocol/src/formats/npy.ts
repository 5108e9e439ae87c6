import { ModelFormatError, shapeSize, validateModelUpdate, type ModelUpdate } from "./model-update";

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** NumPy pads headers to 64 bytes; anything near this is not a NumPy header. */
const MAX_NPY_HEADER_BYTES = 65_536;

/**
 * Reads a NumPy `.npy` file (format 1.0–3.0) holding float32 or float64 in C order, either byte order,
 * as a one-tensor model update. `np.save("update.npy", array)` produces one.
 */
export function parseNpy(bytes: Uint8Array, name = "update"): ModelUpdate {
  const { shape, values } = parseNpyArray(bytes);
  return validateModelUpdate({ tensors: [{ name, shape }], values });
}

/**
 * The array of a `.npy` file as it is, non-finite values included (`parseNpy` refuses them; a caller that judges
 * rows one by one, like a usage report's screening, reads the raw array).
 */
export function parseNpyArray(bytes: Uint8Array): { shape: number[]; values: Float64Array } {
  const fail = (problem: string, details?: string): never => {
    throw new ModelFormatError(`Not a readable .npy file: ${problem}.`, { details });
  };
  if (bytes.length < 10 || NPY_MAGIC.some((byte, i) => bytes[i] !== byte)) fail("missing the \\x93NUMPY magic");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) fail("unsupported format version", `${major}.${bytes[7]}`);
  const headerLength = major === 1 ? view.getUint16(8, true) : bytes.length >= 12 ? view.getUint32(8, true) : -1;
  const headerStart = major === 1 ? 10 : 12;
  if (headerLength < 0 || headerLength > MAX_NPY_HEADER_BYTES || headerStart + headerLength > bytes.length) {
    fail("header length out of bounds", `${headerLength} bytes in a ${bytes.length}-byte file`);
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr'\s*:\s*'([<>|=])(f4|f8)'/.exec(header);
  if (!descr) {
    const found = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1] ?? "none";
    fail("dtype must be float32 or float64", `descr '${found}'`);
  }
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  if (fortran === undefined) fail("no fortran_order in the header");
  if (fortran === "True") fail("Fortran-order arrays are not supported; save with np.ascontiguousarray");
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) fail("no shape in the header");
  const shape = shapeText!
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : fail("bad shape", `(${shapeText})`)));
  if (shape.length === 0) fail("0-d arrays are not model updates", "shape ()");
  const count = shapeSize(shape, ".npy array");
  const itemSize = descr![2] === "f4" ? 4 : 8;
  const littleEndian = descr![1] !== ">";
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== count * itemSize) {
    fail("data length does not match the shape", `${bytes.length - dataStart} bytes for ${count} × ${itemSize}`);
  }
  const values = new Float64Array(count);
  for (let i = 0, offset = dataStart; i < count; i++, offset += itemSize) {
    values[i] = itemSize === 4 ? view.getFloat32(offset, littleEndian) : view.getFloat64(offset, littleEndian);
  }
  return { shape, values };
}

/** Writes a float64 little-endian C-order `.npy` (format 1.0) — used to hand aggregates back to Python. */
export function serializeNpy(values: Float64Array, shape: readonly number[] = [values.length]): Uint8Array {
  if (shapeSize(shape) !== values.length) {
    throw new ModelFormatError("Shape does not match the values.", {
      details: `[${shape.join(", ")}] vs ${values.length}`,
    });
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + values.length * 8);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const dataStart = 10 + header.length;
  for (let i = 0; i < values.length; i++) view.setFloat64(dataStart + 8 * i, values[i], true);
  return out;
}
