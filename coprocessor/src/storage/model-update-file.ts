import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parseModelJson } from "@ciphershare/protocol/formats/json";
import { ModelFormatError, type ModelUpdate } from "@ciphershare/protocol/formats/model-update";
import { parseNpy } from "@ciphershare/protocol/formats/npy";
import { parseSafetensors } from "@ciphershare/protocol/formats/safetensors";

/** Extensions `readModelUpdateFile` understands. */
export const MODEL_UPDATE_EXTENSIONS = Object.freeze([".npy", ".safetensors", ".json"]);

/** Reads a model update from a `.npy`, `.safetensors` or `.json` file, chosen by extension. */
export async function readModelUpdateFile(path: string): Promise<ModelUpdate> {
  const extension = extname(path).toLowerCase();
  if (!MODEL_UPDATE_EXTENSIONS.includes(extension)) {
    throw new ModelFormatError("Unsupported model update file type.", {
      details: `${path}: expected one of ${MODEL_UPDATE_EXTENSIONS.join(", ")}`,
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new ModelFormatError("Cannot read the model update file.", { details: path, cause: error });
  }
  if (extension === ".npy") return parseNpy(bytes);
  if (extension === ".safetensors") return parseSafetensors(bytes);
  return parseModelJson(new TextDecoder("utf-8", { fatal: false }).decode(bytes));
}
