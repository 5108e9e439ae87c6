import { UnsupportedParametersError } from "./errors";

/**
 * A named, versioned CKKS parameter set. Programs pin one by id; the envelope header stores its
 * `numericId`. A set never changes once published: a new choice gets a new id (`fast-v2`).
 */
export interface CkksParameterSet {
  /** Stable name, `<purpose>-v<version>`. */
  readonly id: string;
  /** One byte in the envelope header; 0 is never used so an all-zero header is rejected. */
  readonly numericId: number;
  readonly polyModulusDegree: number;
  /** Bit sizes of the coefficient-modulus primes; the last one is the special (key-switching) prime. */
  readonly coeffModulusBits: readonly number[];
  readonly scaleBits: number;
  /** 2^scaleBits, the scale fresh encodings use. */
  readonly scale: number;
  /** log2 of the scale outputs (aggregates, scores) carry, within 2 bits; scaleBits unless the set says otherwise. */
  readonly outputScaleBits: number;
  /**
   * Primes outputs are released at: FedAvg switches its aggregate down to this level (exact, and it makes
   * partial decryptions and their shares smaller). Undefined: outputs stay where the computation leaves them.
   */
  readonly outputCoeffModulusSize?: number;
  /** Security under the HomomorphicEncryption.org standard (SEAL enforces it on context creation). */
  readonly securityBits: 128;
  /** CKKS slots per ciphertext: polyModulusDegree / 2. */
  readonly slotCount: number;
  /** Rescales a fresh ciphertext can take (number of primes minus the special and the first). */
  readonly multiplicativeDepth: number;
  readonly description: string;
}

function defineSet(
  set: Omit<CkksParameterSet, "scale" | "slotCount" | "multiplicativeDepth" | "securityBits" | "outputScaleBits"> & {
    outputScaleBits?: number;
  },
): CkksParameterSet {
  return Object.freeze({
    ...set,
    outputScaleBits: set.outputScaleBits ?? set.scaleBits,
    coeffModulusBits: Object.freeze([...set.coeffModulusBits]),
    scale: 2 ** set.scaleBits,
    securityBits: 128 as const,
    slotCount: set.polyModulusDegree / 2,
    multiplicativeDepth: set.coeffModulusBits.length - 2,
  });
}

/** Every parameter set CipherShare accepts, by id. */
export const PARAMETER_SETS: Readonly<Record<string, CkksParameterSet>> = Object.freeze({
  "fast-v1": defineSet({
    id: "fast-v1",
    numericId: 1,
    polyModulusDegree: 8192,
    coeffModulusBits: [60, 40, 40, 60],
    scaleBits: 40,
    description:
      "N=8192, 200 of 218 allowed modulus bits, 2 rescales at scale 2^40, 4096 slots. FedAvg and other depth-1/2 work.",
  }),
  "deep-v1": defineSet({
    id: "deep-v1",
    numericId: 2,
    polyModulusDegree: 16384,
    coeffModulusBits: [60, 50, 50, 50, 60],
    scaleBits: 50,
    description:
      "N=16384, 270 of 438 allowed modulus bits, 3 rescales at scale 2^50, 8192 slots. Depth-3 work (Shapley) and ~1e-10 precision.",
  }),
  "deep-v2": defineSet({
    id: "deep-v2",
    numericId: 3,
    polyModulusDegree: 16384,
    coeffModulusBits: [60, 60, 60, 60, 60, 60],
    scaleBits: 80,
    outputScaleBits: 100,
    outputCoeffModulusSize: 2,
    description:
      "N=16384, 360 of 438 allowed modulus bits, scale 2^80 over 60-bit primes, 8192 slots. Rounds: FedAvg and Shapley outputs land at 2^100 on two primes, the headroom flooding by the book needs.",
  }),
});

/** Looks a parameter set up by id; anything else is rejected rather than built ad hoc. */
export function getParameterSet(id: string): CkksParameterSet {
  const set = Object.hasOwn(PARAMETER_SETS, id) ? PARAMETER_SETS[id] : undefined;
  if (!set) {
    throw new UnsupportedParametersError(`Unknown CKKS parameter set "${id}".`, {
      details: `supported: ${Object.keys(PARAMETER_SETS).join(", ")}`,
    });
  }
  return set;
}

/** Looks a parameter set up by the one-byte id an envelope header carries. */
export function getParameterSetByNumericId(numericId: number): CkksParameterSet {
  const set = Object.values(PARAMETER_SETS).find((candidate) => candidate.numericId === numericId);
  if (!set) {
    throw new UnsupportedParametersError(`Unknown CKKS parameter set number ${numericId}.`, {
      details: `supported: ${Object.values(PARAMETER_SETS)
        .map((s) => `${s.numericId} (${s.id})`)
        .join(", ")}`,
    });
  }
  return set;
}
