import {
  ModelFormatError,
  MODEL_UPDATE_LIMITS,
  validateModelUpdate,
  type ModelUpdate,
  type TensorSpec,
} from "./model-update";

/**
 * Reads a model update from JSON text: either one (nested, rectangular) number array, e.g.
 * `json.dump(array.tolist(), f)`, or an object of named nested arrays, e.g.
 * `{name: t.tolist() for name, t in model.state_dict().items()}` (tensors kept in the object's order).
 */
export function parseModelJson(text: string): ModelUpdate {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ModelFormatError("Not a readable model update: invalid JSON.", { details: String(error), cause: error });
  }
  const named: [string, unknown][] =
    Array.isArray(parsed) || typeof parsed === "number"
      ? [["update", parsed]]
      : typeof parsed === "object" && parsed !== null
        ? Object.entries(parsed)
        : [];
  if (named.length === 0) {
    throw new ModelFormatError("Not a readable model update: expected a number array or an object of arrays.");
  }
  const tensors: TensorSpec[] = [];
  const chunks: number[][] = [];
  let total = 0;
  for (const [name, value] of named) {
    const shape = inferShape(value, name);
    const flat: number[] = [];
    flatten(value, shape, 0, flat, name);
    total += flat.length;
    if (total > MODEL_UPDATE_LIMITS.maxValues) throw new ModelFormatError("The model update is too large.");
    tensors.push({ name, shape });
    chunks.push(flat);
  }
  const values = new Float64Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    values.set(chunk, offset);
    offset += chunk.length;
  }
  return validateModelUpdate({ tensors, values });
}

/** Serializes a model update as the object-of-nested-arrays form (tensor order preserved). */
export function serializeModelJson(update: ModelUpdate): string {
  validateModelUpdate(update);
  const out: Record<string, unknown> = {};
  let offset = 0;
  for (const tensor of update.tensors) {
    const build = (depth: number): unknown => {
      if (depth === tensor.shape.length) return update.values[offset++];
      return Array.from({ length: tensor.shape[depth] }, () => build(depth + 1));
    };
    out[tensor.name] = build(0);
  }
  return JSON.stringify(out);
}

function inferShape(value: unknown, name: string): number[] {
  const shape: number[] = [];
  let cursor = value;
  while (Array.isArray(cursor)) {
    shape.push(cursor.length);
    if (shape.length > MODEL_UPDATE_LIMITS.maxRank) {
      throw new ModelFormatError(`Tensor "${name}" is nested too deeply.`, {
        details: `more than ${MODEL_UPDATE_LIMITS.maxRank} levels`,
      });
    }
    if (cursor.length === 0) break;
    cursor = cursor[0];
  }
  if (shape.length === 0) {
    throw new ModelFormatError(`Tensor "${name}" is not an array.`, { details: `got ${typeof value}` });
  }
  return shape;
}

function flatten(value: unknown, shape: number[], depth: number, out: number[], name: string): void {
  if (depth === shape.length) {
    if (typeof value !== "number") {
      throw new ModelFormatError(`Tensor "${name}" contains a non-number.`, {
        details: `${JSON.stringify(value)?.slice(0, 40)} at element ${out.length}`,
      });
    }
    out.push(value);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    throw new ModelFormatError(`Tensor "${name}" is not rectangular.`, {
      details: `expected ${shape[depth]} entries at depth ${depth}, element ${out.length}`,
    });
  }
  for (const item of value) flatten(item, shape, depth + 1, out, name);
}
