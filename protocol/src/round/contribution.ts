// The two layouts of a round contribution envelope, told apart by its tensor manifest (the envelope's byte format is
// the same, so the commitment keccak256(envelope) covers everything either way):
//   model (layout 1):      weights [d, c]                                  — one ciphertext, vec(w) in chunk 0;
//   projection (layout 2): weights [d, c], padding [S − d·c], projection [d, c] — vec(w) in chunk 0, vec(R·w) in
//                          chunk 1 (S = slots; the padding tensor, omitted when d·c = S, puts the projection at the
//                          start of its own ciphertext, the layout `encryptProjection` gives it).
// A layout-1 contributor is projected by the coprocessor's workers; a layout-2 projection is used only after the
// round's consistency check (docs/shapley.md, "Submitted projections").
import { buildEnvelope, EnvelopeError, type ParsedEnvelope } from "../ckks/envelope";
import { getParameterSet } from "../ckks/params";
import { describeTensors, sameTensorLayout, type ModelUpdate, type TensorSpec } from "../formats/model-update";
import { InvalidInputError } from "../errors";
import { modelTensors, ROUND_MODEL_TENSOR, type RoundConfig } from "./config";

/** The submitted projection's tensor: vec(R·w), d×c row-major like `weights`. */
export const ROUND_PROJECTION_TENSOR = "projection";
/** Zeros between the model and the projection, so the projection starts a ciphertext. */
export const ROUND_PADDING_TENSOR = "padding";

type LayoutConfig = Pick<RoundConfig, "dimension" | "classes"> & {
  readonly parameterSet: { readonly slotCount: number };
};

/** The tensor manifest of a contribution that carries its projection (layout 2). */
export function projectionTensors(config: LayoutConfig): TensorSpec[] {
  const { dimension, classes } = config;
  const padding = config.parameterSet.slotCount - dimension * classes;
  return [
    { name: ROUND_MODEL_TENSOR, shape: [dimension, classes] },
    ...(padding > 0 ? [{ name: ROUND_PADDING_TENSOR, shape: [padding] }] : []),
    { name: ROUND_PROJECTION_TENSOR, shape: [dimension, classes] },
  ];
}

/** Model w (the round's layout) and projection z = R·w (d×c row-major) as one layout-2 update, padding zero. */
export function withProjection(update: ModelUpdate, projection: Float64Array, config: LayoutConfig): ModelUpdate {
  const size = config.dimension * config.classes;
  if (!sameTensorLayout(update.tensors, modelTensors(config.dimension, config.classes))) {
    throw new InvalidInputError("A projection is added to a model in the round's layout only.", {
      details: describeTensors(update.tensors),
    });
  }
  if (projection.length !== size) {
    throw new InvalidInputError("The projection does not have the model's shape.", {
      details: `${projection.length} values, model ${config.dimension}×${config.classes}`,
    });
  }
  const slots = config.parameterSet.slotCount;
  const values = new Float64Array(slots + size);
  values.set(update.values.subarray(0, size), 0);
  values.set(projection, slots);
  return { tensors: projectionTensors(config), values };
}

/** A contribution envelope read in the round's layouts: its model ciphertext and, in layout 2, its projection's. */
export interface RoundContribution {
  readonly layout: 1 | 2;
  /** Chunk 0: the fresh Enc(vec(w)). */
  readonly model: Uint8Array;
  /** Chunk 1 in layout 2: the fresh Enc(vec(R·w)); absent in layout 1. */
  readonly projection?: Uint8Array;
}

/**
 * Reads a parsed contribution strictly: its manifest must be exactly layout 1 or layout 2 of this round (names,
 * shapes, order, padding length); anything else is an `EnvelopeError` ("bad-manifest") naming what it got and what the
 * round takes, so the coprocessor excludes it as Malformed.
 */
export function roundContribution(envelope: ParsedEnvelope, config: LayoutConfig): RoundContribution {
  const { tensors } = envelope.header;
  const model = modelTensors(config.dimension, config.classes);
  if (sameTensorLayout(tensors, model)) return { layout: 1, model: envelope.chunks[0] };
  const withZ = projectionTensors(config);
  if (sameTensorLayout(tensors, withZ) && envelope.chunks.length === 2) {
    return { layout: 2, model: envelope.chunks[0], projection: envelope.chunks[1] };
  }
  const projection = tensors.find((t) => t.name === ROUND_PROJECTION_TENSOR);
  throw new EnvelopeError(
    "bad-manifest",
    projection
      ? "the projection tensor is not where the round's layout puts it."
      : "the tensors are not the round's model.",
    {
      details: `tensors ${describeTensors(tensors)}; the round takes ${describeTensors(model)} or ${describeTensors(withZ)}`,
    },
  );
}

/**
 * The model part of a contribution as a layout-1 envelope: the bytes themselves in layout 1, else an envelope of
 * chunk 0 with the `weights` tensor alone (deterministic bytes). FedAvg averages models, never projections, and takes
 * layout-1 and layout-2 contributions of one round alike this way.
 */
export async function modelEnvelope(
  bytes: Uint8Array,
  envelope: ParsedEnvelope,
  config: LayoutConfig,
): Promise<Uint8Array> {
  const contribution = roundContribution(envelope, config);
  if (contribution.layout === 1) return bytes;
  const { header } = envelope;
  return buildEnvelope(
    {
      kind: header.kind,
      parameterSet: getParameterSet(header.parameterSetId),
      publicBundleHash: header.publicBundleHash,
      scale: header.scale,
      coeffModulusSize: header.coeffModulusSize,
      ciphertextSize: header.ciphertextSize,
      tensors: modelTensors(config.dimension, config.classes),
    },
    [contribution.model],
  );
}
