import { InvalidInputError } from "@ciphershare/protocol/errors";
import { MAX_USAGE_CONTRIBUTORS } from "./rules";

/**
 * How generations share a CKKS ciphertext: each generation's vector takes a block of `stride` slots (the
 * contributor count rounded up to a power of two, the tail zero), so `slotCount / stride` whole generations fit in
 * one ciphertext and every ciphertext has the same block layout. Summing ciphertexts adds generations block-wise;
 * folding by rotations of stride·2^k (power-of-two steps, which every program's keys carry for slot sums) then adds
 * the blocks, leaving contributor i's total in every slot ≡ i (mod stride).
 */
export interface UsageLayout {
  readonly contributors: number;
  readonly stride: number;
  readonly generationsPerCiphertext: number;
  readonly slotCount: number;
}

export function usageLayout(contributors: number, slotCount: number): UsageLayout {
  if (!Number.isInteger(contributors) || contributors < 1 || contributors > MAX_USAGE_CONTRIBUTORS) {
    throw new InvalidInputError("A usage layout needs between 1 and 4096 contributors.", {
      details: `${contributors}`,
    });
  }
  let stride = 1;
  while (stride < contributors) stride *= 2;
  if (stride > slotCount) {
    throw new InvalidInputError("Too many contributors for one ciphertext's slots.", {
      details: `${contributors} contributors, ${slotCount} slots`,
    });
  }
  return { contributors, stride, generationsPerCiphertext: slotCount / stride, slotCount };
}

/** Row-major [generations, stride] values: generation g's vector at g·stride, zero padding after each vector. */
export function packGenerations(layout: UsageLayout, vectors: readonly ArrayLike<number>[]): Float64Array {
  const packed = new Float64Array(vectors.length * layout.stride);
  vectors.forEach((vector, g) => {
    if (vector.length !== layout.contributors) {
      throw new InvalidInputError("Every packed vector needs one weight per contributor.", {
        details: `generation ${g}: ${vector.length} weights for ${layout.contributors} contributors`,
      });
    }
    for (let i = 0; i < layout.contributors; i++) packed[g * layout.stride + i] = vector[i];
  });
  return packed;
}

/** Rotation steps that fold the blocks of one ciphertext onto each other: stride, 2·stride, …, slotCount/2. */
export function foldSteps(layout: UsageLayout): number[] {
  const steps: number[] = [];
  for (let step = layout.stride; step < layout.slotCount; step *= 2) steps.push(step);
  return steps;
}

/** Ciphertexts a batch of this many generations takes. */
export function ciphertextsFor(layout: UsageLayout, generations: number): number {
  return Math.ceil(generations / layout.generationsPerCiphertext);
}
