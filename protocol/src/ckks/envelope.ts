import { InvalidInputError } from "../errors";
import { checksum128Sync, initChecksum } from "../hashing/checksum";
import { bytesToHex, hexToBytes, sameHash, type Hex } from "../hex";
import { initKeccak, keccak256Sync } from "../hashing/keccak";
import { manifestSize, MODEL_UPDATE_LIMITS, type TensorSpec } from "../formats/model-update";
import { getParameterSetByNumericId, type CkksParameterSet } from "./params";
import { UnsupportedParametersError } from "./errors";

/**
 * The versioned binary container for encrypted model updates and aggregates: a fixed header, a tensor
 * manifest, then `chunkCount` SEAL ciphertexts of equal length. Isomorphic (Uint8Array only) so the
 * browser can build and check envelopes too. Byte layout: docs/ckks.md.
 */
export const ENVELOPE_MAGIC = Object.freeze([0x43, 0x53, 0x45, 0x4e]); // "CSEN"
export const ENVELOPE_FORMAT_VERSION = 1;
export const ENVELOPE_HEADER_BYTES = 88;
const CHECKSUM_OFFSET = 52;
const CHECKSUM_BYTES = 16;
const MAX_MANIFEST_BYTES = 1 << 20;
/** SEAL's uncompressed ciphertext = 113 bytes of header + size × N × primes × 8 bytes. */
const SEAL_CIPHERTEXT_OVERHEAD_BYTES = 113;

/**
 * Who produced the ciphertexts: a contributor (never decrypted), the coprocessor (an output), or a model
 * operator's batch of per-generation usage attributions (never decrypted; docs/usage.md).
 */
export enum EnvelopeKind {
  Contribution = 1,
  Aggregate = 2,
  UsageBatch = 3,
}

/** Kinds that hold fresh encryptions of a party's inputs (never decrypted, fresh level and scale, value exponent 0). */
function isInputKind(kind: EnvelopeKind): boolean {
  return kind === EnvelopeKind.Contribution || kind === EnvelopeKind.UsageBatch;
}

export interface EnvelopeHeader {
  readonly kind: EnvelopeKind;
  readonly parameterSetId: string;
  /** keccak256 of the public bundle the chunks were encrypted under. */
  readonly publicBundleHash: Hex;
  /** Exact scale of every chunk. */
  readonly scale: number;
  /** Primes left in every chunk's modulus (fresh ciphertexts: all but the special prime). */
  readonly coeffModulusSize: number;
  /** Polynomials per ciphertext (2). */
  readonly ciphertextSize: number;
  /**
   * The values are the decrypted slots times 2^valueExponent: an output the coprocessor scaled down to fit the last
   * CKKS level (Enc(φ)) says so here. Always 0 for contributions.
   */
  readonly valueExponent: number;
  readonly tensors: readonly TensorSpec[];
  readonly valueCount: number;
  readonly chunkCount: number;
  readonly chunkByteLength: number;
}

export interface ParsedEnvelope {
  readonly header: EnvelopeHeader;
  /** The XXH3-128 checksum stored in (and verified against) the header. */
  readonly checksum: Hex;
  /** Views into the envelope bytes, one SEAL ciphertext each. */
  readonly chunks: readonly Uint8Array[];
}

/** What the reader insists on, beyond the envelope being well formed. */
export interface EnvelopeExpectations {
  kind?: EnvelopeKind;
  parameterSetId?: string;
  publicBundleHash?: string;
  /** Default 2 GiB (the largest typed array a browser reliably allocates). */
  maxBytes?: number;
}

/** Names what was wrong so a caller (or a fuzz test) can tell the problems apart. */
export type EnvelopeProblem =
  | "truncated"
  | "too-large"
  | "bad-magic"
  | "unsupported-version"
  | "bad-kind"
  | "unknown-parameter-set"
  | "bad-reserved-bytes"
  | "bad-value-exponent"
  | "bad-ciphertext-size"
  | "bad-modulus-level"
  | "bad-scale"
  | "bad-value-count"
  | "bad-chunk-count"
  | "bad-chunk-length"
  | "bad-manifest"
  | "length-mismatch"
  | "checksum-mismatch"
  | "wrong-kind"
  | "wrong-parameter-set"
  | "wrong-public-bundle"
  | "bad-ciphertext";

/** An envelope that is malformed, tampered with or not the one expected. */
export class EnvelopeError extends InvalidInputError {
  override name = "EnvelopeError";
  readonly problem: EnvelopeProblem;
  constructor(problem: EnvelopeProblem, shortMessage: string, options: { details?: string; cause?: unknown } = {}) {
    super(`Invalid ciphertext envelope (${problem}): ${shortMessage}`, options);
    this.problem = problem;
  }
}

/** Byte length of one uncompressed SEAL ciphertext of this set, level and size. */
export function ciphertextByteLength(set: CkksParameterSet, coeffModulusSize: number, ciphertextSize = 2): number {
  return SEAL_CIPHERTEXT_OVERHEAD_BYTES + ciphertextSize * set.polyModulusDegree * coeffModulusSize * 8;
}

/**
 * The exact byte length of a valid contribution envelope of this set carrying these tensors: header, manifest and
 * one fresh (all but the special prime), 2-polynomial ciphertext per `slotCount` values. A reader can refuse any
 * download longer than this before it has read it.
 */
export function contributionEnvelopeBytes(set: CkksParameterSet, tensors: readonly TensorSpec[]): number {
  const chunks = Math.ceil(manifestSize(tensors) / set.slotCount);
  const fresh = set.coeffModulusBits.length - 1;
  return ENVELOPE_HEADER_BYTES + encodeManifest(tensors).length + chunks * ciphertextByteLength(set, fresh);
}

/** An output's value exponent stays within a float64's comfortable range. */
const MAX_VALUE_EXPONENT = 64;

/** Builds an envelope around serialized ciphertexts and stamps its checksum. */
export async function buildEnvelope(
  header: Omit<EnvelopeHeader, "chunkCount" | "chunkByteLength" | "valueCount" | "parameterSetId" | "valueExponent"> & {
    parameterSet: CkksParameterSet;
    /** Default 0: the decrypted slots are the values. */
    valueExponent?: number;
    /** `manifestSize(tensors)` when the caller already checked the manifest (it is not checked twice). */
    valueCount?: number;
  },
  chunks: readonly Uint8Array[],
): Promise<Uint8Array> {
  await initChecksum();
  const set = header.parameterSet;
  const valueCount = header.valueCount ?? manifestSize(header.tensors);
  const chunkByteLength = chunks[0]?.length ?? 0;
  if (chunks.length !== Math.ceil(valueCount / set.slotCount) || chunks.some((c) => c.length !== chunkByteLength)) {
    throw new InvalidInputError("Chunks do not match the manifest or differ in length.", {
      details: `${chunks.length} chunks for ${valueCount} values at ${set.slotCount} slots`,
    });
  }
  const manifest = encodeManifest(header.tensors);
  const out = new Uint8Array(ENVELOPE_HEADER_BYTES + manifest.length + chunks.length * chunkByteLength);
  const view = new DataView(out.buffer);
  out.set(ENVELOPE_MAGIC, 0);
  view.setUint8(4, ENVELOPE_FORMAT_VERSION);
  view.setUint8(5, header.kind);
  view.setUint8(6, set.numericId);
  view.setUint8(7, header.ciphertextSize);
  view.setUint8(8, header.coeffModulusSize);
  view.setInt8(9, header.valueExponent ?? 0);
  view.setFloat64(12, header.scale);
  out.set(hexToBytes(header.publicBundleHash, 32), 20);
  view.setBigUint64(68, BigInt(valueCount));
  view.setUint32(76, chunks.length);
  view.setUint32(80, chunkByteLength);
  view.setUint32(84, manifest.length);
  out.set(manifest, ENVELOPE_HEADER_BYTES);
  let offset = ENVELOPE_HEADER_BYTES + manifest.length;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunkByteLength;
  }
  out.set(hexToBytes(checksumOf(out), CHECKSUM_BYTES), CHECKSUM_OFFSET);
  // Parse what we built: the writer and the reader must agree on every rule.
  parseEnvelopeSync(out);
  return out;
}

/**
 * Parses and validates an envelope: every field, every length (bounded before anything is allocated),
 * the manifest, the exact total length and the checksum, then the caller's expectations. It
 * never touches SEAL, so tampered files are rejected cheaply before any WASM work.
 */
export async function parseEnvelope(bytes: Uint8Array, expect: EnvelopeExpectations = {}): Promise<ParsedEnvelope> {
  await initChecksum();
  return parseEnvelopeSync(bytes, expect);
}

/** `parseEnvelope` after `initChecksum()` has resolved. */
export function parseEnvelopeSync(bytes: Uint8Array, expect: EnvelopeExpectations = {}): ParsedEnvelope {
  const maxBytes = expect.maxBytes ?? 2 ** 31;
  if (!(bytes instanceof Uint8Array)) throw new EnvelopeError("truncated", "expected bytes.");
  if (bytes.length > maxBytes) {
    throw new EnvelopeError("too-large", "larger than the limit.", { details: `${bytes.length} > ${maxBytes} bytes` });
  }
  if (bytes.length < ENVELOPE_HEADER_BYTES) {
    throw new EnvelopeError("truncated", "shorter than the header.", { details: `${bytes.length} bytes` });
  }
  if (ENVELOPE_MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new EnvelopeError("bad-magic", "not a CipherShare ciphertext envelope.");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== ENVELOPE_FORMAT_VERSION) {
    throw new EnvelopeError("unsupported-version", "unsupported format version.", { details: `${version}` });
  }
  const kind = view.getUint8(5);
  if (kind !== EnvelopeKind.Contribution && kind !== EnvelopeKind.Aggregate && kind !== EnvelopeKind.UsageBatch) {
    throw new EnvelopeError("bad-kind", "unknown envelope kind.", { details: `${kind}` });
  }
  let set: CkksParameterSet;
  try {
    set = getParameterSetByNumericId(view.getUint8(6));
  } catch (error) {
    if (!(error instanceof UnsupportedParametersError)) throw error;
    throw new EnvelopeError("unknown-parameter-set", error.shortMessage, { details: error.details, cause: error });
  }
  const ciphertextSize = view.getUint8(7);
  if (ciphertextSize !== 2) {
    throw new EnvelopeError("bad-ciphertext-size", "ciphertexts must have 2 polynomials.", {
      details: `${ciphertextSize}`,
    });
  }
  const coeffModulusSize = view.getUint8(8);
  const freshSize = set.coeffModulusBits.length - 1;
  const levelOk = isInputKind(kind)
    ? coeffModulusSize === freshSize
    : coeffModulusSize >= 1 && coeffModulusSize <= freshSize;
  if (!levelOk) {
    throw new EnvelopeError("bad-modulus-level", "ciphertext modulus level is impossible for this kind and set.", {
      details: `${coeffModulusSize} primes (${set.id}, fresh ${freshSize})`,
    });
  }
  const valueExponent = view.getInt8(9);
  const exponentOk = isInputKind(kind) ? valueExponent === 0 : Math.abs(valueExponent) <= MAX_VALUE_EXPONENT;
  if (!exponentOk) {
    throw new EnvelopeError("bad-value-exponent", "value exponent is impossible for this kind.", {
      details: `2^${valueExponent} (${isInputKind(kind) ? "inputs use 2^0" : `at most 2^±${MAX_VALUE_EXPONENT}`})`,
    });
  }
  if (bytes[10] !== 0 || bytes[11] !== 0) {
    throw new EnvelopeError("bad-reserved-bytes", "reserved header bytes must be zero.");
  }
  const scale = view.getFloat64(12);
  // Contributions are fresh encodings at the set's scale; outputs stay within a few bits of its output scale.
  const scaleOk = isInputKind(kind)
    ? scale === set.scale
    : Number.isFinite(scale) && Math.abs(Math.log2(scale) - set.outputScaleBits) <= 2;
  if (!scaleOk) {
    throw new EnvelopeError("bad-scale", "scale is not valid for this kind and set.", {
      details: `${scale} (${set.id} uses 2^${set.scaleBits}, outputs 2^${set.outputScaleBits})`,
    });
  }
  const publicBundleHash = bytesToHex(bytes.subarray(20, 52));
  const checksum = bytesToHex(bytes.subarray(CHECKSUM_OFFSET, CHECKSUM_OFFSET + CHECKSUM_BYTES));
  const valueCountBig = view.getBigUint64(68);
  if (valueCountBig === 0n || valueCountBig > BigInt(MODEL_UPDATE_LIMITS.maxValues)) {
    throw new EnvelopeError("bad-value-count", "value count out of bounds.", {
      details: `${valueCountBig} (1–${MODEL_UPDATE_LIMITS.maxValues})`,
    });
  }
  const valueCount = Number(valueCountBig);
  const chunkCount = view.getUint32(76);
  if (chunkCount !== Math.ceil(valueCount / set.slotCount)) {
    throw new EnvelopeError("bad-chunk-count", "chunk count does not match the value count.", {
      details: `${chunkCount} chunks for ${valueCount} values at ${set.slotCount} slots`,
    });
  }
  const chunkByteLength = view.getUint32(80);
  const expectedChunkBytes = ciphertextByteLength(set, coeffModulusSize, ciphertextSize);
  if (chunkByteLength !== expectedChunkBytes) {
    throw new EnvelopeError("bad-chunk-length", "chunk length does not match the parameters.", {
      details: `${chunkByteLength} ≠ ${expectedChunkBytes} bytes`,
    });
  }
  const manifestLength = view.getUint32(84);
  if (manifestLength > MAX_MANIFEST_BYTES || ENVELOPE_HEADER_BYTES + manifestLength > bytes.length) {
    throw new EnvelopeError("bad-manifest", "manifest length out of bounds.", { details: `${manifestLength} bytes` });
  }
  const expectedLength = ENVELOPE_HEADER_BYTES + manifestLength + chunkCount * chunkByteLength;
  if (bytes.length !== expectedLength) {
    throw new EnvelopeError(
      bytes.length < expectedLength ? "truncated" : "length-mismatch",
      bytes.length < expectedLength ? "shorter than its header says." : "longer than its header says.",
      { details: `${bytes.length} bytes, header implies ${expectedLength}` },
    );
  }
  const { tensors, size } = decodeManifest(
    bytes.subarray(ENVELOPE_HEADER_BYTES, ENVELOPE_HEADER_BYTES + manifestLength),
  );
  if (size !== valueCount) {
    throw new EnvelopeError("bad-manifest", "tensor shapes do not add up to the value count.", {
      details: `${size} ≠ ${valueCount}`,
    });
  }
  const actualChecksum = checksumOf(bytes);
  if (actualChecksum !== checksum) {
    throw new EnvelopeError("checksum-mismatch", "content does not match its checksum (corrupted or altered).", {
      details: `stored ${checksum}, computed ${actualChecksum}`,
    });
  }
  const chunksStart = ENVELOPE_HEADER_BYTES + manifestLength;
  const chunks = Array.from({ length: chunkCount }, (_, i) =>
    bytes.subarray(chunksStart + i * chunkByteLength, chunksStart + (i + 1) * chunkByteLength),
  );
  const header: EnvelopeHeader = {
    kind,
    parameterSetId: set.id,
    publicBundleHash,
    scale,
    coeffModulusSize,
    ciphertextSize,
    valueExponent,
    tensors,
    valueCount,
    chunkCount,
    chunkByteLength,
  };
  assertEnvelopeExpectations(header, expect);
  return { header, checksum, chunks };
}

/** Throws an `EnvelopeError` unless a (validated) header is of the expected kind, set and bundle. */
export function assertEnvelopeExpectations(header: EnvelopeHeader, expect: EnvelopeExpectations): void {
  const { kind, parameterSetId, publicBundleHash } = header;
  if (expect.kind !== undefined && kind !== expect.kind) {
    throw new EnvelopeError("wrong-kind", `expected ${EnvelopeKind[expect.kind]}, got ${EnvelopeKind[kind]}.`);
  }
  if (expect.parameterSetId !== undefined && expect.parameterSetId !== parameterSetId) {
    throw new EnvelopeError("wrong-parameter-set", "encrypted under another parameter set.", {
      details: `${parameterSetId}, expected ${expect.parameterSetId}`,
    });
  }
  if (expect.publicBundleHash !== undefined && !sameHash(expect.publicBundleHash, publicBundleHash)) {
    throw new EnvelopeError("wrong-public-bundle", "encrypted under another public key bundle.", {
      details: `${publicBundleHash}, expected ${expect.publicBundleHash}`,
    });
  }
}

/** keccak256 of the whole envelope: the commitment a contributor or the coprocessor publishes. */
export async function envelopeCommitment(bytes: Uint8Array): Promise<Hex> {
  await initKeccak();
  return keccak256Sync(bytes);
}

/** XXH3-128 of the envelope with its checksum field taken as zeros. */
function checksumOf(bytes: Uint8Array): Hex {
  return checksum128Sync([
    bytes.subarray(0, CHECKSUM_OFFSET),
    ZERO_CHECKSUM,
    bytes.subarray(CHECKSUM_OFFSET + CHECKSUM_BYTES),
  ]);
}
const ZERO_CHECKSUM = new Uint8Array(CHECKSUM_BYTES);

/** Manifest: u16 tensor count, then per tensor u16 name length, UTF-8 name, u8 rank, u32 dims (already validated). */
function encodeManifest(tensors: readonly TensorSpec[]): Uint8Array {
  const names = tensors.map((t) => new TextEncoder().encode(t.name));
  const length = 2 + tensors.reduce((sum, t, i) => sum + 2 + names[i].length + 1 + 4 * t.shape.length, 0);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint16(0, tensors.length);
  let offset = 2;
  tensors.forEach((tensor, i) => {
    view.setUint16(offset, names[i].length);
    out.set(names[i], offset + 2);
    offset += 2 + names[i].length;
    view.setUint8(offset, tensor.shape.length);
    offset += 1;
    for (const dim of tensor.shape) {
      view.setUint32(offset, dim);
      offset += 4;
    }
  });
  return out;
}

/** The manifest's tensors and their value count, validated once (`manifestSize`). */
function decodeManifest(bytes: Uint8Array): { tensors: TensorSpec[]; size: number } {
  const fail = (problem: string): never => {
    throw new EnvelopeError("bad-manifest", `${problem}.`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 2) fail("manifest too short");
  const count = view.getUint16(0);
  if (count === 0 || count > MODEL_UPDATE_LIMITS.maxTensors) fail(`tensor count ${count} out of bounds`);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const tensors: TensorSpec[] = [];
  let offset = 2;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > bytes.length) fail("manifest truncated");
    const nameLength = view.getUint16(offset);
    if (
      nameLength === 0 ||
      nameLength > MODEL_UPDATE_LIMITS.maxNameBytes ||
      offset + 2 + nameLength + 1 > bytes.length
    ) {
      fail(`tensor ${i} name length ${nameLength} out of bounds`);
    }
    let name = "";
    try {
      name = decoder.decode(bytes.subarray(offset + 2, offset + 2 + nameLength));
    } catch {
      fail(`tensor ${i} name is not UTF-8`);
    }
    offset += 2 + nameLength;
    const rank = view.getUint8(offset);
    offset += 1;
    if (rank > MODEL_UPDATE_LIMITS.maxRank || offset + 4 * rank > bytes.length)
      fail(`tensor ${i} rank ${rank} out of bounds`);
    const shape: number[] = [];
    for (let d = 0; d < rank; d++, offset += 4) shape.push(view.getUint32(offset));
    tensors.push({ name, shape });
  }
  if (offset !== bytes.length) fail("trailing bytes in the manifest");
  try {
    return { tensors, size: manifestSize(tensors) };
  } catch (error) {
    throw new EnvelopeError("bad-manifest", (error as Error).message.split("\n")[0], { cause: error });
  }
}
