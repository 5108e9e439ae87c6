import { CipherShareError } from "@ciphershare/protocol/errors";
import type { ModelUpdate } from "@ciphershare/protocol/formats/model-update";
import {
  MODEL_UPDATE_EXTENSIONS,
  modelUpdateFormatOf,
  parseModelUpdate,
  type ModelUpdateFormat,
} from "@ciphershare/protocol/formats/read";
import { ROUND_MODEL_TENSOR } from "@ciphershare/protocol/round/config";
import { chunkCount } from "../fhe/params";

/** Model-update files the Contribute page accepts (the CLI's `--update` formats), checked before anything is read. */
export const UPDATE_FILE_EXTENSIONS = MODEL_UPDATE_EXTENSIONS;

export type UpdateFileFormat = ModelUpdateFormat;

/** 256 MiB: a float64 update of 32 M parameters; beyond that the browser's WASM heap is the limit. */
export const MAX_UPDATE_FILE_BYTES = 256 * 1024 * 1024;

export type UpdateFileCheck =
  { readonly ok: true; readonly format: UpdateFileFormat } | { readonly ok: false; readonly message: string };

/** Checks name and size of a chosen file and says what to do when it cannot be used. */
export function checkUpdateFile(file: { readonly name: string; readonly size: number }): UpdateFileCheck {
  const format = modelUpdateFormatOf(file.name);
  if (!format) {
    return {
      ok: false,
      message: `${file.name} is not a model update: choose a ${UPDATE_FILE_EXTENSIONS.join(", ")} file.`,
    };
  }
  if (file.size === 0) return { ok: false, message: `${file.name} is empty.` };
  if (file.size > MAX_UPDATE_FILE_BYTES) {
    return {
      ok: false,
      message: `${file.name} is ${(file.size / 1024 / 1024).toFixed(0)} MiB; the limit is ${MAX_UPDATE_FILE_BYTES / 1024 / 1024} MiB. Send a smaller update (e.g. one layer or a float32 export).`,
    };
  }
  return { ok: true, format };
}

/** What the page shows about a parsed update: never its values. */
export interface UpdateSummary {
  readonly valueCount: number;
  readonly tensors: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly ciphertextCount: number;
}

export type UpdateFileResult =
  | { readonly ok: true; readonly update: ModelUpdate; readonly summary: UpdateSummary }
  | { readonly ok: false; readonly message: string };

/**
 * Checks and parses a chosen file in the page with the coprocessor's own readers, so the browser and
 * the CLI accept exactly the same files. Nothing is sent anywhere.
 */
export async function readUpdateFile(file: Blob & { readonly name: string }): Promise<UpdateFileResult> {
  const check = checkUpdateFile(file);
  if (!check.ok) return check;
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const update = parseModelUpdate(bytes, check.format, file.name.replace(/\.npy$/i, ""));
    const bad = update.values.findIndex((v) => !Number.isFinite(v));
    if (bad !== -1) {
      return { ok: false, message: `${file.name} has a non-finite value (${update.values[bad]}) at position ${bad}.` };
    }
    return {
      ok: true,
      update,
      summary: {
        valueCount: update.values.length,
        tensors: update.tensors,
        ciphertextCount: chunkCount(update.values.length),
      },
    };
  } catch (error) {
    if (error instanceof CipherShareError) {
      return { ok: false, message: `${file.name}: ${error.shortMessage}${error.details ? ` (${error.details})` : ""}` };
    }
    throw error;
  }
}

/**
 * The layout a round expects: FedAvg adds envelopes only when their tensor manifests agree, and the CLI's
 * contributors write one `weights` [dimension × classes] tensor. A file holding one 2-D tensor (whatever the file
 * called it, e.g. `model` in a .safetensors or the .npy's array) is that model; anything else keeps its own layout.
 */
export function asRoundModel(update: ModelUpdate): ModelUpdate {
  const [only, ...rest] = update.tensors;
  if (only === undefined || rest.length > 0 || only.shape.length !== 2) return update;
  return { ...update, tensors: [{ name: ROUND_MODEL_TENSOR, shape: only.shape }] };
}
