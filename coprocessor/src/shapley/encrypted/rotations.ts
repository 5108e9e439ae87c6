import { CkksError } from "@ciphershare/protocol/ckks/errors";
import type { MatvecPlan } from "./layout";

/** A rotation the evaluation keys cannot express, even composed. */
export class MissingRotationKeyError extends CkksError {
  override name = "MissingRotationKeyError";
}

/**
 * The key switches that rotate by `step` with the keys of `available` (pure, no SEAL): `[step]` when it has its own key,
 * else its binary decomposition into positive powers of two, ascending (27 = 1 + 2 + 8 + 16), every one of which must
 * have a key. Rotations compose (rot(rot(x, a), b) = rot(x, a + b)), so the result is the same slots with popcount(step)
 * key switches instead of one. Deterministic, so every worker rotates in the same order and the bytes agree. SEAL's
 * own fallback (non-adjacent form) needs negative powers of two too, which a "submitted" key set does not hold.
 */
export function rotationSchedule(step: number, available: readonly number[]): number[] {
  if (!Number.isInteger(step) || step <= 0) {
    throw new MissingRotationKeyError("Only positive rotation steps are composed.", { details: `step ${step}` });
  }
  if (available.includes(step)) return [step];
  const parts: number[] = [];
  for (let bit = 1; bit <= step; bit *= 2) {
    if ((step & bit) === 0) continue;
    if (!available.includes(bit)) {
      throw new MissingRotationKeyError("The evaluation keys cannot compose this rotation.", {
        details: `step ${step} needs a key for ${bit}; keys: ${available.join(",") || "none"}`,
      });
    }
    parts.push(bit);
  }
  return parts;
}

/** Key switches of one rotation by `step` with the keys of `available` (1 with its own key, popcount(step) composed). */
export function rotationKeySwitches(step: number, available: readonly number[]): number {
  return rotationSchedule(step, available).length;
}

/** What the projection's rotations cost in key switches with a given key set (the flooding bound's inputs). */
export interface ProjectionKeySwitches {
  /** The most key switches of any one baby rotation (1 when every baby step has its key). */
  readonly babyMax: number;
  /** The key switches of all giant rotations together (one each when every giant step has its key). */
  readonly giantTotal: number;
}

export function projectionKeySwitches(plan: MatvecPlan, available: readonly number[]): ProjectionKeySwitches {
  return {
    babyMax: Math.max(1, ...plan.babySteps.map((step) => rotationKeySwitches(step, available))),
    giantTotal: plan.giantSteps.reduce((sum, step) => sum + rotationKeySwitches(step, available), 0),
  };
}
