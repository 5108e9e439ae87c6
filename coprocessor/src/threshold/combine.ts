import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { envelopeCommitment, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { describeSealException } from "@ciphershare/protocol/ckks/seal";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { MalformedShareError, ReleaseRangeError, ThresholdError } from "./errors";
import { addPointwise } from "./modular";
import type { ModulusLevel } from "./modulus-chain";
import { checkDecryptable, parsePartialDecryption, type PartialDecryption } from "./partial-decryption";
import { ciphertextPolynomial, parseCiphertext, serializePlaintext } from "./seal-format";

/** The values an envelope releases once t partial decryptions are combined. */
export interface CombinedRelease {
  readonly envelopeCommitment: Hex;
  readonly decryptingSet: readonly number[];
  readonly tensors: readonly TensorSpec[];
  /** The envelope's first `valueCount` slots, as decoded (flooded by the members' noise). */
  readonly values: Float64Array;
}

export interface CombineOptions {
  /**
   * Refuse the release (ReleaseRangeError) if any value exceeds this in absolute value: what honest inputs
   * cannot produce (e.g. the declared model bound W for an aggregate). Garbage from fewer than t shares or a
   * forged partial decodes to huge values.
   */
  readonly maxAbs?: number;
}

/**
 * Combines one partial decryption per member of the decrypting set into the envelope's values:
 * m = c0 + Σ d_i per chunk, decoded by SEAL's CKKS decoder as a plaintext at the chunk's level and exact
 * scale. Everything is deterministic (modular sums, then SEAL's decoder on fixed bytes), so an auditor
 * holding the envelope and the published partials obtains the very same values.
 */
export async function combinePartialDecryptions(
  ctx: CkksContext,
  envelopeBytes: Uint8Array,
  partials: readonly (Uint8Array | PartialDecryption)[],
  options: CombineOptions = {},
): Promise<CombinedRelease> {
  const envelope = await parseEnvelope(envelopeBytes, { parameterSetId: ctx.parameterSet.id });
  const commitment = await envelopeCommitment(envelopeBytes);
  const parsed = partials.map((p) => (p instanceof Uint8Array ? parsePartialDecryption(ctx, p) : p));
  const decryptingSet = assertCompleteSet(parsed, commitment, envelope.chunks.length, envelope.header.coeffModulusSize);
  const { valueCount } = envelope.header;
  const values = new Float64Array(valueCount);
  envelope.chunks.forEach((chunk, index) => {
    const slots = combineCiphertext(
      ctx,
      chunk,
      parsed.map((p) => p.chunks[index]),
    );
    const start = index * ctx.slotCount;
    values.set(slots.subarray(0, Math.min(ctx.slotCount, valueCount - start)), start);
  });
  if (options.maxAbs !== undefined) assertValuesInRange(values, options.maxAbs);
  return { envelopeCommitment: commitment, decryptingSet, tensors: envelope.header.tensors, values };
}

/** c0 + Σ d_i for one ciphertext, decoded: all slots. */
export function combineCiphertext(
  ctx: CkksContext,
  ciphertext: Uint8Array,
  partials: readonly BigUint64Array[],
): Float64Array {
  const raw = parseCiphertext(ciphertext);
  const level = checkDecryptable(ctx, raw);
  const degree = raw.polyModulusDegree;
  const sum = new BigUint64Array(ciphertextPolynomial(raw, 0));
  for (const partial of partials) {
    if (partial.length !== sum.length) {
      throw new MalformedShareError("A partial decryption is at another level than the ciphertext.", {
        details: `${partial.length} residues, ciphertext has ${sum.length}`,
      });
    }
    addPointwise(sum, partial, level.primes, degree, sum);
  }
  return decodeResidues(ctx, level, raw.scale, sum);
}

/**
 * Decodes NTT-form residues at `level` as a CKKS plaintext of the given scale (the ciphertext's exact
 * scale: after rescaling it is not a power of two).
 */
export function decodeResidues(
  ctx: CkksContext,
  level: ModulusLevel,
  scale: number,
  residues: BigUint64Array,
): Float64Array {
  const bytes = serializePlaintext({ parmsId: level.parmsId, coeffCount: residues.length, scale, data: residues });
  const plaintext = new ctx.seal.Plaintext();
  try {
    plaintext.loadFromArray(ctx.context, bytes);
    return Float64Array.from(ctx.encoder.decodeFloat64(plaintext) as ArrayLike<number>);
  } catch (error) {
    throw new ThresholdError("SEAL could not decode the combined decryption.", {
      details: describeSealException(error),
      cause: error,
    });
  } finally {
    plaintext.delete();
  }
}

/** Every value finite and |value| ≤ maxAbs, or a ReleaseRangeError naming the first offender. */
export function assertValuesInRange(values: ArrayLike<number>, maxAbs: number): void {
  let offenders = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    if (!(Math.abs(values[i]) <= maxAbs)) {
      offenders++;
      if (first < 0) first = i;
    }
  }
  if (offenders > 0) {
    throw new ReleaseRangeError("The decrypted values are outside the declared range; nothing is released.", {
      details: `${offenders} of ${values.length} values exceed ${maxAbs}, first value[${first}] = ${values[first]}`,
    });
  }
}

/** Same envelope, same set (one partial per member, each once), enough members, matching shapes. */
function assertCompleteSet(
  partials: readonly PartialDecryption[],
  commitment: Hex,
  chunkCount: number,
  coeffModulusSize: number,
): number[] {
  if (partials.length === 0) throw new ThresholdError("No partial decryptions to combine.");
  const [first] = partials;
  const set = first.decryptingSet;
  for (const partial of partials) {
    if (!sameHash(partial.envelopeCommitment, commitment)) {
      throw new MalformedShareError("A partial decryption is for another envelope.", {
        details: `member ${partial.member}: ${partial.envelopeCommitment}, envelope ${commitment}`,
      });
    }
    if (partial.decryptingSet.length !== set.length || partial.decryptingSet.some((m, i) => m !== set[i])) {
      throw new MalformedShareError("Partial decryptions name different decrypting sets.", {
        details: `member ${partial.member}: [${partial.decryptingSet.join(", ")}], member ${first.member}: [${set.join(", ")}]`,
      });
    }
    if (partial.threshold !== first.threshold) {
      throw new MalformedShareError("Partial decryptions name different thresholds.");
    }
    if (partial.chunks.length !== chunkCount || partial.coeffModulusSize !== coeffModulusSize) {
      throw new MalformedShareError("A partial decryption does not match the envelope's chunks or level.", {
        details: `member ${partial.member}: ${partial.chunks.length} chunks at ${partial.coeffModulusSize} primes; envelope ${chunkCount} at ${coeffModulusSize}`,
      });
    }
  }
  const members = partials.map((p) => p.member).sort((a, b) => a - b);
  const duplicate = members.find((m, i) => m === members[i - 1]);
  if (duplicate !== undefined) {
    throw new MalformedShareError("Two partial decryptions come from the same member.", {
      details: `member ${duplicate}`,
    });
  }
  const missing = set.filter((m) => !members.includes(m));
  if (missing.length > 0 || members.length !== set.length) {
    throw new ThresholdError("Every member of the decrypting set must contribute its partial decryption.", {
      details: `set [${set.join(", ")}], partials from [${members.join(", ")}]`,
    });
  }
  return [...set];
}
