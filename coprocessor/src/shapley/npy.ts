import { InvalidInputError } from "../errors/base";
import { matrix, type Matrix } from "./matrix";

/**
 * A minimal .npy reader/writer for the `value` command (local to Shapley until the shared
 * `formats/npy` lands): C-order arrays of 1 or 2 dimensions, little-endian float64/float32/int32/int64/
 * uint8 or bool, format versions 1–3. A 1-D array of length k reads as a k×1 matrix.
 */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const READERS: Record<string, { bytes: number; read: (view: DataView, offset: number) => number }> = {
  "<f8": { bytes: 8, read: (v, o) => v.getFloat64(o, true) },
  "<f4": { bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  "<i4": { bytes: 4, read: (v, o) => v.getInt32(o, true) },
  "<i8": { bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  "|u1": { bytes: 1, read: (v, o) => v.getUint8(o) },
  "|b1": { bytes: 1, read: (v, o) => v.getUint8(o) },
};

export function parseNpy(bytes: Uint8Array, name = "array"): Matrix {
  const fail = (problem: string, details?: string): never => {
    throw new InvalidInputError(`${name} is not a supported .npy file: ${problem}.`, { details });
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail("missing the \\x93NUMPY magic");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength =
    major === 1 ? view.getUint16(8, true) : major <= 3 ? view.getUint32(8, true) : fail(`version ${major}`);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLength > bytes.length) fail("truncated header");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? fail("no dtype in the header", header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1] ?? fail("no fortran_order", header);
  if (fortran === "True") fail("Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? fail("no shape", header);
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.length < 1 || shape.length > 2 || shape.some((s) => !Number.isInteger(s) || s <= 0)) {
    fail("only non-empty 1-D or 2-D arrays are supported", `shape (${shapeText})`);
  }
  const reader = READERS[descr] ?? fail(`dtype ${descr}`, `supported: ${Object.keys(READERS).join(", ")}`);
  const [rows, cols] = shape.length === 1 ? [shape[0], 1] : [shape[0], shape[1]];
  const dataStart = headerStart + headerLength;
  if (dataStart + rows * cols * reader.bytes !== bytes.length) {
    fail("data length does not match the shape", `${bytes.length - dataStart} bytes for (${shapeText}) of ${descr}`);
  }
  const data = new Float64Array(rows * cols);
  for (let k = 0; k < data.length; k++) {
    data[k] = reader.read(view, dataStart + k * reader.bytes);
    if (!Number.isFinite(data[k])) fail("non-finite value", `element ${k} = ${data[k]}`);
  }
  return matrix(rows, cols, data);
}

/** Writes a float64 C-order 2-D .npy (version 1), e.g. for fixtures and exported scores. */
export function serializeNpy(m: Matrix): Uint8Array {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${m.rows}, ${m.cols}), }`;
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + m.data.length * 8);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  m.data.forEach((value, k) => view.setFloat64(10 + header.length + k * 8, value, true));
  return out;
}
