import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Matrix } from "../linalg/matrix";

/**
 * How a rows×cols matrix sits in CKKS slots: row-packed, each row in a block of `width` slots (a power of two ≥
 * cols, zero-padded), `rowsPerCiphertext = slotCount / width` rows per ciphertext, as many ciphertexts as needed.
 * Entry (r, k) is slot `(r mod rowsPerCiphertext)·width + k` of ciphertext `⌊r / rowsPerCiphertext⌋`. A left
 * product mixes rows (rotations by multiples of `width`), a right product mixes columns within each block.
 */
export interface RowPackedLayout {
  readonly rows: number;
  readonly cols: number;
  readonly width: number;
  readonly rowsPerCiphertext: number;
  readonly ciphertextCount: number;
  readonly slotCount: number;
}

/** The layout of a rows×cols matrix; `width` defaults to the smallest power of two ≥ cols. */
export function rowPackedLayout(rows: number, cols: number, slotCount: number, width?: number): RowPackedLayout {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows <= 0 || cols <= 0) {
    throw new InvalidInputError("A packed matrix needs positive integer dimensions.", { details: `${rows}×${cols}` });
  }
  const blockWidth = width ?? 2 ** Math.ceil(Math.log2(cols));
  if (!Number.isSafeInteger(blockWidth) || blockWidth < cols || (blockWidth & (blockWidth - 1)) !== 0) {
    throw new InvalidInputError("The row width must be a power of two no smaller than the columns.", {
      details: `width ${blockWidth}, ${cols} columns`,
    });
  }
  if (blockWidth > slotCount) {
    throw new InvalidInputError("A matrix row does not fit one ciphertext.", {
      details: `${cols} columns need ${blockWidth} slots, a ciphertext has ${slotCount}`,
    });
  }
  const rowsPerCiphertext = slotCount / blockWidth;
  return {
    rows,
    cols,
    width: blockWidth,
    rowsPerCiphertext,
    ciphertextCount: Math.ceil(rows / rowsPerCiphertext),
    slotCount,
  };
}

/** Rows of the matrix held by ciphertext `index`. */
export function rowsIn(layout: RowPackedLayout, index: number): number {
  return Math.min(layout.rowsPerCiphertext, layout.rows - index * layout.rowsPerCiphertext);
}

/** The slot vectors of a matrix in a layout (one per ciphertext). */
export function packRows(layout: RowPackedLayout, m: Matrix): Float64Array[] {
  if (m.rows !== layout.rows || m.cols !== layout.cols) {
    throw new InvalidInputError("The matrix does not have the layout's shape.", {
      details: `${m.rows}×${m.cols}, layout ${layout.rows}×${layout.cols}`,
    });
  }
  return Array.from({ length: layout.ciphertextCount }, (_, index) => {
    const slots = new Float64Array(layout.slotCount);
    const first = index * layout.rowsPerCiphertext;
    for (let r = 0; r < rowsIn(layout, index); r++) {
      slots.set(m.data.subarray((first + r) * m.cols, (first + r + 1) * m.cols), r * layout.width);
    }
    return slots;
  });
}

/** Reads a matrix back from its slot vectors (the padding is ignored). */
export function unpackRows(layout: RowPackedLayout, slots: readonly Float64Array[]): Matrix {
  if (slots.length !== layout.ciphertextCount) {
    throw new InvalidInputError("Wrong number of slot vectors for the layout.", {
      details: `${slots.length}, expected ${layout.ciphertextCount}`,
    });
  }
  const data = new Float64Array(layout.rows * layout.cols);
  slots.forEach((vector, index) => {
    const first = index * layout.rowsPerCiphertext;
    for (let r = 0; r < rowsIn(layout, index); r++) {
      data.set(vector.subarray(r * layout.width, r * layout.width + layout.cols), (first + r) * layout.cols);
    }
  });
  return { rows: layout.rows, cols: layout.cols, data };
}
