import { InvalidInputError } from "../errors";

/** One named tensor of a model update; its values sit in `ModelUpdate.values` in C order. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * A model update as a flat float vector plus the tensors it concatenates, in order. Flower's
 * `Parameters` (a list of ndarrays) and a PyTorch `state_dict` both map onto it; the shapes travel
 * with the ciphertexts so the aggregate can be reshaped.
 */
export interface ModelUpdate {
  readonly tensors: readonly TensorSpec[];
  readonly values: Float64Array;
}

/** A file or manifest that is not a model update CipherShare can read. */
export class ModelFormatError extends InvalidInputError {
  override name = "ModelFormatError";
}

/** Bounds checked before any allocation, so a hostile header cannot ask for gigabytes. */
export const MODEL_UPDATE_LIMITS = Object.freeze({
  maxTensors: 4096,
  maxRank: 8,
  maxNameBytes: 256,
  /** 2^28 values = 1 GiB as float32; about 65 000 ciphertexts at N=8192. */
  maxValues: 2 ** 28,
});

/** Elements in a tensor of this shape, rejecting negative, fractional or oversized dimensions. */
export function shapeSize(shape: readonly number[], where = "tensor"): number {
  if (shape.length > MODEL_UPDATE_LIMITS.maxRank) {
    throw new ModelFormatError(`The ${where} has too many dimensions.`, {
      details: `rank ${shape.length} > ${MODEL_UPDATE_LIMITS.maxRank}`,
    });
  }
  let size = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new ModelFormatError(`The ${where} has an invalid dimension.`, { details: `shape [${shape.join(", ")}]` });
    }
    size *= dim;
    if (size > MODEL_UPDATE_LIMITS.maxValues) {
      throw new ModelFormatError(`The ${where} is too large.`, {
        details: `shape [${shape.join(", ")}] exceeds ${MODEL_UPDATE_LIMITS.maxValues} values`,
      });
    }
  }
  return size;
}

/** Total values of a tensor list, after checking names, count and shapes. */
export function manifestSize(tensors: readonly TensorSpec[]): number {
  if (tensors.length === 0) throw new ModelFormatError("A model update needs at least one tensor.");
  if (tensors.length > MODEL_UPDATE_LIMITS.maxTensors) {
    throw new ModelFormatError("The model update has too many tensors.", {
      details: `${tensors.length} > ${MODEL_UPDATE_LIMITS.maxTensors}`,
    });
  }
  const names = new Set<string>();
  let total = 0;
  for (const tensor of tensors) {
    const nameBytes = new TextEncoder().encode(tensor.name).length;
    if (nameBytes === 0 || nameBytes > MODEL_UPDATE_LIMITS.maxNameBytes) {
      throw new ModelFormatError("A tensor name is empty or too long.", {
        details: `"${tensor.name.slice(0, 40)}" is ${nameBytes} bytes (1–${MODEL_UPDATE_LIMITS.maxNameBytes})`,
      });
    }
    if (names.has(tensor.name)) throw new ModelFormatError("Duplicate tensor name.", { details: tensor.name });
    names.add(tensor.name);
    total += shapeSize(tensor.shape, `tensor "${tensor.name}"`);
    if (total > MODEL_UPDATE_LIMITS.maxValues) {
      throw new ModelFormatError("The model update is too large.", {
        details: `more than ${MODEL_UPDATE_LIMITS.maxValues} values`,
      });
    }
  }
  if (total === 0) throw new ModelFormatError("The model update has no values.");
  return total;
}

/** Checks a model update: the manifest is sound, its size matches the values, every value is finite. */
export function validateModelUpdate(update: ModelUpdate): ModelUpdate {
  return checkModelUpdateValues(update, manifestSize(update.tensors));
}

/** `validateModelUpdate` for a manifest already sized (`manifestSize`): the values match it and are all finite. */
export function checkModelUpdateValues(update: ModelUpdate, expected: number): ModelUpdate {
  if (update.values.length !== expected) {
    throw new ModelFormatError("The values do not match the tensor shapes.", {
      details: `${update.values.length} values, shapes need ${expected}`,
    });
  }
  for (let i = 0; i < update.values.length; i++) {
    if (!Number.isFinite(update.values[i])) {
      throw new ModelFormatError("The model update contains a non-finite value.", {
        details: `value ${update.values[i]} at flat index ${i}${locate(update.tensors, i)}`,
      });
    }
  }
  return update;
}

/** A single-tensor update from a flat array and optional shape (default 1-D). */
export function modelUpdateFromArray(
  values: ArrayLike<number>,
  shape: readonly number[] = [values.length],
  name = "update",
): ModelUpdate {
  return validateModelUpdate({ tensors: [{ name, shape: [...shape] }], values: Float64Array.from(values) });
}

/** Splits an update's flat values back into its tensors (views into `values`). */
export function splitTensors(update: ModelUpdate): { name: string; shape: readonly number[]; values: Float64Array }[] {
  let offset = 0;
  return update.tensors.map((tensor) => {
    const size = shapeSize(tensor.shape);
    const values = update.values.subarray(offset, offset + size);
    offset += size;
    return { name: tensor.name, shape: tensor.shape, values };
  });
}

function locate(tensors: readonly TensorSpec[], flatIndex: number): string {
  let offset = 0;
  for (const tensor of tensors) {
    const size = shapeSize(tensor.shape);
    if (flatIndex < offset + size) return ` (tensor "${tensor.name}", element ${flatIndex - offset})`;
    offset += size;
  }
  return "";
}

/** `name[d×c], …`: a tensor layout as error messages and exclusion details print it (long lists cut at 200). */
export function describeTensors(tensors: readonly TensorSpec[]): string {
  const text = tensors.map((tensor) => `${tensor.name}[${tensor.shape.join("×")}]`).join(", ");
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** True when two layouts have the same tensors: names and shapes, in order. */
export function sameTensorLayout(a: readonly TensorSpec[], b: readonly TensorSpec[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (t, i) =>
        t.name === b[i].name && t.shape.length === b[i].shape.length && t.shape.every((d, j) => d === b[i].shape[j]),
    )
  );
}
