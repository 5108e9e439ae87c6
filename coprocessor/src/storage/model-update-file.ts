import { readFile } from "node:fs/promises";
import { ModelFormatError, type ModelUpdate } from "@ciphershare/protocol/formats/model-update";
import { MODEL_UPDATE_EXTENSIONS, modelUpdateFormatOf, parseModelUpdate } from "@ciphershare/protocol/formats/read";

/** Reads a model update from a `.npy`, `.safetensors` or `.json` file, chosen by extension. */
export async function readModelUpdateFile(path: string): Promise<ModelUpdate> {
  const format = modelUpdateFormatOf(path);
  if (format === undefined) {
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
  return parseModelUpdate(bytes, format);
}
