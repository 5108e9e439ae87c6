import { CipherShareError } from "@ciphershare/protocol/errors";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { readTrainingFile } from "@ciphershare/protocol/training/data-files";
import { assertTrainingData, type TrainingShape } from "@ciphershare/protocol/training/statistics";

/** A provider's rows and labels as read and checked in the page, before anything is encrypted. */
export type TrainingDataResult =
  | { readonly ok: true; readonly x: Matrix; readonly y: Matrix; readonly rows: number }
  | { readonly ok: false; readonly message: string };

/** Our errors keep the reason in `shortMessage` and the offending value in `details`. */
export function messageOf(error: unknown): string {
  if (error instanceof CipherShareError)
    return error.details ? `${error.shortMessage} (${error.details})` : error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads the rows ([n, d]) and the labels ([n, c], or integer labels [n] one-hot over c) with the CLI's reader
 * (`readTrainingFile`: .npy or .csv) and checks them against the program's d × c as `provider submit` does
 * (`assertTrainingData`: d, c, the same n, every value finite). A refusal names the file and the entry.
 */
export function checkTrainingData(
  rows: { readonly name: string; readonly bytes: Uint8Array },
  labels: { readonly name: string; readonly bytes: Uint8Array },
  shape: TrainingShape,
): TrainingDataResult {
  let x: Matrix;
  let y: Matrix;
  try {
    x = readTrainingFile(rows.name, rows.bytes, "The rows file");
  } catch (error) {
    return { ok: false, message: `${rows.name}: ${messageOf(error)}` };
  }
  try {
    y = readTrainingFile(labels.name, labels.bytes, "The labels file", shape.outputs);
  } catch (error) {
    return { ok: false, message: `${labels.name}: ${messageOf(error)}` };
  }
  try {
    assertTrainingData(x, y, shape);
  } catch (error) {
    return { ok: false, message: `${rows.name} / ${labels.name}: ${messageOf(error)}` };
  }
  return { ok: true, x, y, rows: x.rows };
}

/** A chosen file's name and bytes. */
export async function fileBytes(file: Blob & { readonly name: string }): Promise<{ name: string; bytes: Uint8Array }> {
  return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}
