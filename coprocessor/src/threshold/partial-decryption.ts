import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  EnvelopeKind,
  envelopeCommitment,
  parseEnvelope,
  type ParsedEnvelope,
} from "@ciphershare/protocol/ckks/envelope";
import { getParameterSet, getParameterSetByNumericId } from "@ciphershare/protocol/ckks/params";
import { bytesToHex, hexToBytes, sameHash, type Hex } from "@ciphershare/protocol/hex";
import { MalformedShareError, ThresholdError } from "./errors";
import type { KeyShare } from "./key-share";
import { addPointwise, cryptoRandomFill, mulPointwise, mulScalarPerPrime, type RandomFill } from "./modular";
import { levelOf, modulusChain, type ModulusLevel } from "./modulus-chain";
import { ciphertextPolynomial, parseCiphertext, type RawCiphertext } from "./seal-format";
import { lagrangeCoefficients, normalizeDecryptingSet } from "./shamir";
import { smudgingNoise } from "./smudging";

/**
 * A member's partial decryption of an output envelope: for every chunk (c0, c1),
 * d_i = λ_i·(c1 ⊙ s_i) + e_i in NTT form at the chunk's level, where λ_i is the member's Lagrange
 * coefficient for the agreed decrypting set and e_i its own smudging noise (σ from flooding.ts). The
 * coefficient is applied before the noise is added, so the noise is not multiplied by a full-size number.
 * Anyone holding the envelope and one partial from every member of the set computes c0 + Σ d_i (combine.ts).
 */
export interface PartialDecryption {
  readonly parameterSetId: string;
  /** keccak256 of the envelope decrypted: a partial is for that envelope and that set only. */
  readonly envelopeCommitment: Hex;
  readonly threshold: number;
  readonly member: number;
  /** The decrypting set, ascending. */
  readonly decryptingSet: readonly number[];
  /** The member's smudging σ (ring units), recorded for audit. */
  readonly sigma: number;
  readonly coeffModulusSize: number;
  /** One k × N residue array per envelope chunk. */
  readonly chunks: readonly BigUint64Array[];
}

export interface PartialDecryptionRequest {
  readonly share: KeyShare;
  readonly decryptingSet: readonly number[];
  /** σ of the member's smudging noise, ring units (smudgingSigma of the output's error bound). */
  readonly sigma: number;
  readonly random?: RandomFill;
}

/** d_i for one SEAL ciphertext (bytes), at its level. */
export function partialDecryptCiphertext(
  ctx: CkksContext,
  ciphertext: Uint8Array | RawCiphertext,
  request: PartialDecryptionRequest,
): BigUint64Array {
  const { share } = request;
  if (share.parameterSetId !== ctx.parameterSet.id) {
    throw new MalformedShareError("The key share is for another parameter set than the context.", {
      details: `${share.parameterSetId}, context ${ctx.parameterSet.id}`,
    });
  }
  const set = normalizeDecryptingSet(request.decryptingSet, share);
  const raw = ciphertext instanceof Uint8Array ? parseCiphertext(ciphertext) : ciphertext;
  const level = checkDecryptable(ctx, raw);
  const degree = raw.polyModulusDegree;
  const k = level.primes.length;
  assertNoiseFits(level, request.sigma, share.members);
  // A share covers the key level; a ciphertext at any level uses the first k of those primes.
  const secret = share.key.data.subarray(0, k * degree);
  const lambda = lagrangeCoefficients(share.member, set, level.primes);
  const partial = mulPointwise(ciphertextPolynomial(raw, 1), secret, level.primes, degree);
  let noise: BigUint64Array | undefined;
  try {
    mulScalarPerPrime(partial, lambda, level.primes, degree, partial);
    noise = smudgingNoise(ctx, level, request.sigma, request.random ?? cryptoRandomFill);
    addPointwise(partial, noise, level.primes, degree, partial);
    return partial;
  } catch (error) {
    // Unflooded, λ·(c1 ⊙ s_i) would give the share away: never leave it behind.
    partial.fill(0n);
    throw error;
  } finally {
    noise?.fill(0n);
  }
}

/**
 * A member's partial decryption of every chunk of an Aggregate envelope under its bundle. Refuses a
 * contribution envelope and one under another bundle before touching the share (the caller's policy
 * decides which outputs may be decrypted at all; custodian/policy.ts).
 */
export async function partialDecryptEnvelope(
  ctx: CkksContext,
  envelopeBytes: Uint8Array,
  request: PartialDecryptionRequest,
): Promise<PartialDecryption> {
  const envelope = await parseEnvelope(envelopeBytes, { parameterSetId: ctx.parameterSet.id });
  assertDecryptableEnvelope(envelope, request.share.publicBundleHash);
  const decryptingSet = normalizeDecryptingSet(request.decryptingSet, request.share);
  const chunks = envelope.chunks.map((chunk) => partialDecryptCiphertext(ctx, chunk, request));
  return {
    parameterSetId: ctx.parameterSet.id,
    envelopeCommitment: await envelopeCommitment(envelopeBytes),
    threshold: request.share.threshold,
    member: request.share.member,
    decryptingSet,
    sigma: request.sigma,
    coeffModulusSize: envelope.header.coeffModulusSize,
    chunks,
  };
}

/** Only coprocessor outputs under the share's own bundle are ever partially decrypted. */
export function assertDecryptableEnvelope(envelope: ParsedEnvelope, publicBundleHash: Hex): void {
  if (envelope.header.kind !== EnvelopeKind.Aggregate) {
    throw new ThresholdError("Refusing to decrypt a contribution envelope.", {
      details: `kind ${EnvelopeKind[envelope.header.kind]}`,
    });
  }
  if (!sameHash(envelope.header.publicBundleHash, publicBundleHash)) {
    throw new ThresholdError("The envelope is encrypted under another public bundle than the key share's.", {
      details: `${envelope.header.publicBundleHash}, share for ${publicBundleHash}`,
    });
  }
}

/** The ciphertext's level, after checking it is a 2-polynomial NTT-form ciphertext of this context. */
export function checkDecryptable(ctx: CkksContext, raw: RawCiphertext): ModulusLevel {
  const chain = modulusChain(ctx);
  if (raw.polyModulusDegree !== chain.polyModulusDegree) {
    throw new MalformedShareError("The ciphertext's degree does not match the parameter set.", {
      details: `N = ${raw.polyModulusDegree}, ${ctx.parameterSet.id} has ${chain.polyModulusDegree}`,
    });
  }
  if (raw.size !== 2) {
    throw new MalformedShareError("Only relinearized (2-polynomial) ciphertexts can be decrypted in shares.", {
      details: `size ${raw.size}`,
    });
  }
  if (!raw.isNttForm) throw new MalformedShareError("The ciphertext is not in NTT form (not a CKKS ciphertext).");
  const level = levelOf(chain, raw.parmsId);
  if (level.primes.length !== raw.coeffModulusSize) {
    throw new MalformedShareError("The ciphertext's prime count disagrees with its parms_id.", {
      details: `${raw.coeffModulusSize} primes, level has ${level.primes.length}`,
    });
  }
  for (let j = 0; j < level.primes.length; j++) {
    const q = level.primes[j];
    for (const p of [0, 1]) {
      const poly = ciphertextPolynomial(raw, p).subarray(j * raw.polyModulusDegree, (j + 1) * raw.polyModulusDegree);
      if (poly.some((residue) => residue >= q)) {
        throw new MalformedShareError("A ciphertext residue is not below its prime.", { details: `prime ${j}` });
      }
    }
  }
  return level;
}

/**
 * The summed noise of all members must stay far below Q/2 at the level, or c0 + Σ d_i wraps around and
 * decodes to garbage: require 16·√n·σ < Q/4 (n = committee size, the most partials ever summed).
 */
function assertNoiseFits(level: ModulusLevel, sigma: number, members: number): void {
  const modulusBits = level.primes.reduce((bits, q) => bits + Math.log2(Number(q)), 0);
  if (Math.log2(16 * Math.sqrt(members) * Math.max(sigma, 1)) > modulusBits - 2) {
    throw new ThresholdError("The smudging noise would wrap around the ciphertext's modulus.", {
      details: `σ = 2^${Math.log2(sigma).toFixed(1)}, modulus 2^${modulusBits.toFixed(1)}`,
    });
  }
}

/**
 * Container (big-endian header): "CSPD", format version u8 (1), parameter-set number u8, threshold u8,
 * member u8, set size u8, primes per chunk u8, 2 reserved zero bytes, the 32-byte envelope commitment,
 * σ f64, chunk count u32, the set's member numbers (u8 each, zero-padded to a multiple of 8), then each
 * chunk's k × N residues as u64 little-endian (SEAL's own order).
 */
const PARTIAL_MAGIC = [0x43, 0x53, 0x50, 0x44]; // "CSPD"
const PARTIAL_FORMAT_VERSION = 1;
const PARTIAL_FIXED_BYTES = 56;

export function partialDecryptionByteLength(
  setSize: number,
  chunkCount: number,
  coeffModulusSize: number,
  degree: number,
): number {
  return PARTIAL_FIXED_BYTES + Math.ceil(setSize / 8) * 8 + chunkCount * coeffModulusSize * degree * 8;
}

export function serializePartialDecryption(partial: PartialDecryption): Uint8Array {
  const set = getParameterSet(partial.parameterSetId);
  const degree = set.polyModulusDegree;
  const residuesPerChunk = partial.coeffModulusSize * degree;
  if (partial.chunks.some((chunk) => chunk.length !== residuesPerChunk)) {
    throw new MalformedShareError("Every chunk of a partial decryption has primes × N residues.");
  }
  const out = new Uint8Array(
    partialDecryptionByteLength(partial.decryptingSet.length, partial.chunks.length, partial.coeffModulusSize, degree),
  );
  const view = new DataView(out.buffer);
  out.set(PARTIAL_MAGIC, 0);
  out[4] = PARTIAL_FORMAT_VERSION;
  out[5] = set.numericId;
  out[6] = partial.threshold;
  out[7] = partial.member;
  out[8] = partial.decryptingSet.length;
  out[9] = partial.coeffModulusSize;
  out.set(hexToBytes(partial.envelopeCommitment, 32), 12);
  view.setFloat64(44, partial.sigma);
  view.setUint32(52, partial.chunks.length);
  out.set(partial.decryptingSet, PARTIAL_FIXED_BYTES);
  let offset = PARTIAL_FIXED_BYTES + Math.ceil(partial.decryptingSet.length / 8) * 8;
  for (const chunk of partial.chunks) {
    out.set(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Parses and checks a partial decryption (header, lengths, set, residues below the level's primes). */
export function parsePartialDecryption(ctx: CkksContext, bytes: Uint8Array): PartialDecryption {
  const fail = (problem: string, details?: string): never => {
    throw new MalformedShareError(`Malformed partial decryption: ${problem}.`, { details });
  };
  if (bytes.length < PARTIAL_FIXED_BYTES) fail("too short", `${bytes.length} bytes`);
  if (PARTIAL_MAGIC.some((byte, i) => bytes[i] !== byte)) fail("bad magic (not a CipherShare partial decryption)");
  if (bytes[4] !== PARTIAL_FORMAT_VERSION) fail("unsupported format version", `${bytes[4]}`);
  if (bytes[10] !== 0 || bytes[11] !== 0) fail("reserved bytes are not zero");
  const parameterSetId = getParameterSetByNumericId(bytes[5]).id;
  if (parameterSetId !== ctx.parameterSet.id) {
    fail("it is for another parameter set than the context", `${parameterSetId}, context ${ctx.parameterSet.id}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [threshold, member, setSize, coeffModulusSize] = [bytes[6], bytes[7], bytes[8], bytes[9]];
  const sigma = view.getFloat64(44);
  const chunkCount = view.getUint32(52);
  if (!Number.isFinite(sigma) || sigma < 0) fail("σ is not a non-negative number", `${sigma}`);
  const chain = modulusChain(ctx);
  const level = chain.levels.find((candidate) => candidate.primes.length === coeffModulusSize);
  if (!level) fail("no level of the parameter set has that many primes", `${coeffModulusSize}`);
  const degree = chain.polyModulusDegree;
  if (chunkCount < 1 || chunkCount > 2 ** 20) fail("chunk count out of range", `${chunkCount}`);
  const expected = partialDecryptionByteLength(setSize, chunkCount, coeffModulusSize, degree);
  if (bytes.length !== expected) fail("length does not match the header", `${bytes.length} ≠ ${expected}`);
  const setEnd = PARTIAL_FIXED_BYTES + setSize;
  const decryptingSet = Array.from(bytes.subarray(PARTIAL_FIXED_BYTES, setEnd));
  if (bytes.subarray(setEnd, PARTIAL_FIXED_BYTES + Math.ceil(setSize / 8) * 8).some((b) => b !== 0)) {
    fail("set padding is not zero");
  }
  // The committee size is not in the partial; the set must be sorted, distinct, ≥ t, and contain the member.
  let normalized: number[] = [];
  try {
    normalized = normalizeDecryptingSet(decryptingSet, { threshold, members: 255 });
  } catch (error) {
    fail("invalid decrypting set", (error as Error).message);
  }
  if (normalized.some((m, i) => m !== decryptingSet[i])) fail("the decrypting set is not in ascending order");
  if (!decryptingSet.includes(member)) fail("the member is not in its own decrypting set", `${member}`);
  const residues = coeffModulusSize * degree;
  const dataStart = PARTIAL_FIXED_BYTES + Math.ceil(setSize / 8) * 8;
  const chunks: BigUint64Array[] = [];
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const data = new BigUint64Array(residues);
    const start = dataStart + chunk * residues * 8;
    new Uint8Array(data.buffer).set(bytes.subarray(start, start + residues * 8));
    level!.primes.forEach((q, j) => {
      for (let c = j * degree; c < (j + 1) * degree; c++) if (data[c] >= q) fail("a residue is not below its prime");
    });
    chunks.push(data);
  }
  return {
    parameterSetId,
    envelopeCommitment: bytesToHex(bytes.subarray(12, 44)),
    threshold,
    member,
    decryptingSet,
    sigma,
    coeffModulusSize,
    chunks,
  };
}
