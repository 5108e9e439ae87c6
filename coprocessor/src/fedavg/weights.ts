import { InvalidInputError } from "@ciphershare/protocol/errors";

/**
 * FedAvg weights with Flower's semantics: client i's update counts in proportion to the number of
 * training examples it used, w_i = m_i / Σ m. Clients with m_i = 0 get weight 0 (and are skipped by
 * the homomorphic aggregator, since SEAL refuses to multiply by an all-zero plaintext).
 */
export function fedAvgWeights(sampleCounts: readonly number[]): Float64Array {
  if (sampleCounts.length === 0) throw new InvalidInputError("FedAvg needs at least one client.");
  let total = 0;
  sampleCounts.forEach((count, i) => {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new InvalidInputError("Sample counts must be non-negative integers.", {
        details: `client ${i}: ${count}`,
      });
    }
    total += count;
  });
  if (total === 0 || !Number.isSafeInteger(total)) {
    throw new InvalidInputError("The sample counts must add up to a positive safe integer.", {
      details: `Σ = ${total} over ${sampleCounts.length} clients`,
    });
  }
  return Float64Array.from(sampleCounts, (count) => count / total);
}

/**
 * The plaintext FedAvg reference, as Flower computes it: Σ m_i·x_i / Σ m_i per coordinate, in float64.
 * Auditors and tests compare the homomorphic result against it.
 */
export function fedAvgPlain(updates: readonly Float64Array[], sampleCounts: readonly number[]): Float64Array {
  if (updates.length !== sampleCounts.length) {
    throw new InvalidInputError("One sample count per update is needed.", {
      details: `${updates.length} updates, ${sampleCounts.length} counts`,
    });
  }
  fedAvgWeights(sampleCounts);
  const length = updates[0].length;
  const total = sampleCounts.reduce((sum, count) => sum + count, 0);
  const sum = new Float64Array(length);
  updates.forEach((update, i) => {
    if (update.length !== length) {
      throw new InvalidInputError("All updates must have the same length.", {
        details: `update ${i} has ${update.length} values, update 0 has ${length}`,
      });
    }
    const count = sampleCounts[i];
    if (count === 0) return;
    for (let j = 0; j < length; j++) sum[j] += count * update[j];
  });
  for (let j = 0; j < length; j++) sum[j] /= total;
  return sum;
}
