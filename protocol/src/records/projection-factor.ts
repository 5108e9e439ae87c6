// The public validation factor R of a round (d×d, upper-triangular, XᵀX = RᵀR) and its byte form, "CSR1". A
// contributor needs R to submit its projection z = R·w (docs/shapley.md, "Submitted projections"); the round manifest
// names this blob by hash (and the chain pins the manifest), so R costs a contributor d(d+1)/2 float64s (2.47 MB at
// d = 785) instead of the whole validation set (63 MB for 10 000 MNIST rows) and its QR.
import { InvalidInputError } from "../errors";
import { matrix, upperTriangularFactor, type Matrix } from "../linalg/matrix";
import type { Dataset } from "./dataset";

const FACTOR_MAGIC = "CSR1";
const FACTOR_HEADER_BYTES = 8;

/**
 * R of a validation set: the factor of its Householder QR (deterministic float64, so the network that publishes it and
 * every role that checks it get the same bytes; it is the `r` of the round's `validationKernel`).
 */
export function validationFactor(validation: Dataset): Matrix {
  return upperTriangularFactor(matrix(validation.size, validation.dimension, validation.features));
}

/** Bytes of the upper triangle of R (d×d): "CSR1", d (uint32 LE), then row r's entries r…d−1 as float64 LE. */
export function encodeProjectionFactor(r: Matrix): Uint8Array {
  const d = r.rows;
  if (r.cols !== d || d < 1) {
    throw new InvalidInputError("A projection factor is a square matrix.", { details: `${r.rows}×${r.cols}` });
  }
  const bytes = new Uint8Array(projectionFactorBytes(d));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < FACTOR_MAGIC.length; i++) bytes[i] = FACTOR_MAGIC.charCodeAt(i);
  view.setUint32(4, d, true);
  let offset = FACTOR_HEADER_BYTES;
  for (let row = 0; row < d; row++) {
    for (let col = 0; col < d; col++) {
      const value = r.data[row * d + col];
      if (!Number.isFinite(value) || (col < row && value !== 0)) {
        throw new InvalidInputError("A projection factor is finite and upper-triangular.", {
          details: `R[${row}][${col}] = ${value}`,
        });
      }
      if (col < row) continue;
      view.setFloat64(offset, value, true);
      offset += 8;
    }
  }
  return bytes;
}

/** The exact length of R's blob at dimension d: a reader can refuse anything else before parsing. */
export function projectionFactorBytes(d: number): number {
  return FACTOR_HEADER_BYTES + ((d * (d + 1)) / 2) * 8;
}

/** R from its blob, strictly: magic, the expected dimension, the exact length, finite entries. */
export function decodeProjectionFactor(bytes: Uint8Array, dimension: number): Matrix {
  const magic = String.fromCharCode(...bytes.subarray(0, Math.min(4, bytes.length)));
  if (bytes.length < FACTOR_HEADER_BYTES || magic !== FACTOR_MAGIC) {
    throw new InvalidInputError("These bytes are not an encoded projection factor.", {
      details: `${bytes.length} bytes, starting ${JSON.stringify(magic)}`,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const d = view.getUint32(4, true);
  if (d !== dimension || bytes.length !== projectionFactorBytes(d)) {
    throw new InvalidInputError("The projection factor does not have the round's dimension.", {
      details: `factor d = ${d} (${bytes.length} bytes), round d = ${dimension} (${projectionFactorBytes(dimension)} bytes)`,
    });
  }
  const data = new Float64Array(d * d);
  let offset = FACTOR_HEADER_BYTES;
  for (let row = 0; row < d; row++) {
    for (let col = row; col < d; col++) {
      const value = view.getFloat64(offset, true);
      if (!Number.isFinite(value)) {
        throw new InvalidInputError("The projection factor has a non-finite entry.", {
          details: `R[${row}][${col}] = ${value}`,
        });
      }
      data[row * d + col] = value;
      offset += 8;
    }
  }
  return { rows: d, cols: d, data };
}
