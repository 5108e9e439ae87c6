import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { UsageExclusionReason } from "@ciphershare/protocol/records/usage-report";
import { assertValidUsageRules, type UsageRules } from "./rules";

/** Why a generation's attribution vector was left out of its report (checked in the clear, by the operator). */
export type AttributionProblem = UsageExclusionReason;

export interface ExcludedGeneration {
  /** Index of the generation in the operator's input. */
  readonly generation: number;
  readonly reason: AttributionProblem;
  readonly details: string;
}

export interface ScreenedAttributions {
  /** The valid vectors, in input order, each of length `rules.contributors`. */
  readonly included: readonly Float64Array[];
  /** Input indices of `included`, in order. */
  readonly includedGenerations: readonly number[];
  readonly excluded: readonly ExcludedGeneration[];
}

/** The first problem of one attribution vector, or undefined when it is valid under the rules. */
export function attributionProblem(
  vector: ArrayLike<number>,
  rules: UsageRules,
): { reason: AttributionProblem; details: string } | undefined {
  if (vector.length !== rules.contributors) {
    return { reason: "wrong-length", details: `${vector.length} weights for ${rules.contributors} contributors` };
  }
  let sum = 0;
  for (let i = 0; i < vector.length; i++) {
    const v = vector[i];
    if (!Number.isFinite(v)) return { reason: "not-finite", details: `contributor ${i}: ${v}` };
    if (v < 0) return { reason: "negative", details: `contributor ${i}: ${v}` };
    sum += v;
  }
  if (sum > rules.generationCap) {
    return { reason: "over-cap", details: `Σ = ${sum} > cap ${rules.generationCap}` };
  }
  return undefined;
}

/**
 * Splits a period's per-generation attribution vectors into the valid ones and the excluded ones with their
 * reason. Nothing is clipped or repaired: a bad vector says something is wrong with the attribution method, and
 * silently fixing it would hide that; the report counts what was left out, by reason.
 */
export function screenAttributions(vectors: readonly ArrayLike<number>[], rules: UsageRules): ScreenedAttributions {
  assertValidUsageRules(rules);
  const included: Float64Array[] = [];
  const includedGenerations: number[] = [];
  const excluded: ExcludedGeneration[] = [];
  vectors.forEach((vector, generation) => {
    const problem = attributionProblem(vector, rules);
    if (problem) excluded.push({ generation, ...problem });
    else {
      included.push(Float64Array.from(vector));
      includedGenerations.push(generation);
    }
  });
  return { included, includedGenerations, excluded };
}

/** Exclusions counted by reason (what a report publishes about the generations it left out). */
export function exclusionCounts(excluded: readonly ExcludedGeneration[]): Record<AttributionProblem, number> {
  const counts: Record<AttributionProblem, number> = { "wrong-length": 0, "not-finite": 0, negative: 0, "over-cap": 0 };
  for (const { reason } of excluded) counts[reason] += 1;
  return counts;
}

/** Plaintext reference: Σ over generations of each contributor's weight. */
export function plaintextUsageTotals(vectors: readonly ArrayLike<number>[], contributors: number): Float64Array {
  const totals = new Float64Array(contributors);
  for (const vector of vectors) for (let i = 0; i < contributors; i++) totals[i] += vector[i];
  return totals;
}

/** The rows of a [generations, contributors] array (an operator's `.npy`), one attribution vector each. */
export function attributionRows(array: { shape: readonly number[]; values: Float64Array }): Float64Array[] {
  if (array.shape.length !== 2 || array.shape[0] < 1 || array.shape[1] < 1) {
    throw new InvalidInputError("Attributions must be a [generations, contributors] array.", {
      details: `shape [${array.shape.join(", ")}]`,
    });
  }
  const [generations, contributors] = array.shape;
  return Array.from({ length: generations }, (_, g) => array.values.subarray(g * contributors, (g + 1) * contributors));
}
