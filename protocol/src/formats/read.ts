import { parseModelJson } from "./json";
import { ModelFormatError, type ModelUpdate } from "./model-update";
import { parseNpy } from "./npy";
import { parseSafetensors } from "./safetensors";

/** The model-update file formats CipherShare reads (the CLI's `--update`, the web app's file picker). */
export const MODEL_UPDATE_EXTENSIONS = Object.freeze([".npy", ".safetensors", ".json"] as const);
export type ModelUpdateFormat = "npy" | "safetensors" | "json";

/** The format a file name says it holds, by extension (any case); undefined for anything else. */
export function modelUpdateFormatOf(fileName: string): ModelUpdateFormat | undefined {
  const lower = fileName.toLowerCase();
  const extension = MODEL_UPDATE_EXTENSIONS.find((ext) => lower.endsWith(ext));
  return extension === undefined ? undefined : (extension.slice(1) as ModelUpdateFormat);
}

/**
 * Parses a model-update file's bytes in its format. A `.npy` holds one unnamed array: it gets `name` (default
 * "update").
 */
export function parseModelUpdate(bytes: Uint8Array, format: ModelUpdateFormat, name?: string): ModelUpdate {
  switch (format) {
    case "npy":
      return parseNpy(bytes, name);
    case "safetensors":
      return parseSafetensors(bytes);
    case "json":
      return parseModelJson(new TextDecoder("utf-8", { fatal: false }).decode(bytes));
    default:
      throw new ModelFormatError("Unsupported model update format.", { details: String(format) });
  }
}
