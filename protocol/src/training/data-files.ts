// A provider's data files as matrices: the same reader for `ciphershare provider submit` and the web app's provider
// page, so both compute the statistics of the same numbers.
import { InvalidInputError } from "../errors";
import { parseNpyArray } from "../formats/npy";
import { matrix, type Matrix } from "../linalg/matrix";

/** The file types a provider's rows and labels may come in. */
export const TRAINING_FILE_EXTENSIONS = [".npy", ".csv"] as const;

/**
 * A 2-D array as a matrix; a 1-D array of labels becomes one column per class when `oneHot` (c ≥ 2) is given: integer
 * labels 0 … c−1, anything else (a fraction, a negative or too large a class) makes that row's first entry NaN, so the
 * labels are refused as non-finite naming the row. Without `oneHot` a 1-D array is one column.
 */
export function trainingMatrix(shape: readonly number[], values: Float64Array, what: string, oneHot?: number): Matrix {
  if (shape.length === 2) return matrix(shape[0]!, shape[1]!, values);
  if (shape.length !== 1) {
    throw new InvalidInputError(`${what} must be a 1-D or 2-D array.`, { details: `shape [${shape.join(", ")}]` });
  }
  if (oneHot === undefined || oneHot < 2) return matrix(shape[0]!, 1, values);
  const y = matrix(shape[0]!, oneHot);
  values.forEach((label, row) => {
    if (Number.isInteger(label) && label >= 0 && label < oneHot) y.data[row * oneHot + label] = 1;
    else y.data[row * oneHot] = Number.NaN; // not a class: refused as non-finite labels
  });
  return y;
}

/**
 * A data file's bytes as a matrix, by its name's extension: `.npy` (float32/float64, C order, [n, d] or [n]) or
 * `.csv` (numbers separated by commas, one row per line, no header; one column is a 1-D array).
 */
export function readTrainingFile(fileName: string, bytes: Uint8Array, what: string, oneHot?: number): Matrix {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".npy")) {
    const { shape, values } = parseNpyArray(bytes);
    return trainingMatrix(shape, values, what, oneHot);
  }
  if (lower.endsWith(".csv")) {
    const { shape, values } = parseCsvArray(new TextDecoder().decode(bytes), what);
    return trainingMatrix(shape, values, what, oneHot);
  }
  throw new InvalidInputError(`${what} must be a .npy or .csv file.`, { details: fileName });
}

/**
 * Numbers separated by commas, one row per line, every row as long as the first; blank lines are skipped. A file with
 * one column is a 1-D array (labels). Anything that is not a number (a header, "abc") is refused naming its line and
 * column; "NaN" and "Infinity" read as such, for the statistics' check to refuse with the entry's position.
 */
export function parseCsvArray(text: string, what: string): { shape: number[]; values: Float64Array } {
  const rows: number[][] = [];
  let width = -1;
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") return;
    const cells = line.split(",").map((cell) => cell.trim());
    const row = cells.map((cell, column) => {
      const value = Number(cell);
      if (cell === "" || (Number.isNaN(value) && cell.toLowerCase() !== "nan")) {
        throw new InvalidInputError(`${what}: not a number in the CSV.`, {
          details: `line ${index + 1}, column ${column + 1}: "${cell.slice(0, 40)}"`,
        });
      }
      return value;
    });
    if (width === -1) width = row.length;
    else if (row.length !== width) {
      throw new InvalidInputError(`${what}: the CSV rows have different lengths.`, {
        details: `line ${index + 1} has ${row.length} values, the first row ${width}`,
      });
    }
    rows.push(row);
  });
  if (rows.length === 0) throw new InvalidInputError(`${what}: the CSV has no rows.`);
  const values = Float64Array.from(rows.flat());
  return { shape: width === 1 ? [rows.length] : [rows.length, width], values };
}
