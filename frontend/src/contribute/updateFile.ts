/** Model-update files the Contribute page accepts, checked before anything is read. */
export const UPDATE_FILE_EXTENSIONS = [".npy", ".safetensors", ".json"] as const;

export type UpdateFileFormat = "npy" | "safetensors" | "json";

/** 256 MiB: a float64 update of 32 M parameters; beyond that the browser's WASM heap is the limit. */
export const MAX_UPDATE_FILE_BYTES = 256 * 1024 * 1024;

export type UpdateFileCheck =
  { readonly ok: true; readonly format: UpdateFileFormat } | { readonly ok: false; readonly message: string };

/** Checks name and size of a chosen file and says what to do when it cannot be used. */
export function checkUpdateFile(file: { readonly name: string; readonly size: number }): UpdateFileCheck {
  const lower = file.name.toLowerCase();
  const extension = UPDATE_FILE_EXTENSIONS.find((ext) => lower.endsWith(ext));
  if (!extension) {
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
  return { ok: true, format: extension.slice(1) as UpdateFileFormat };
}
