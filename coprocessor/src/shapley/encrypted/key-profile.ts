import { InvalidInputError } from "@ciphershare/protocol/errors";
import { CONJUGATION_STEP, requiredGaloisSteps, slotSumSteps, type MatvecPlan } from "./layout";

/**
 * Which Galois keys the custodian generates for an encrypted valuation (pure, no SEAL).
 *
 * - `"computed"`: the coprocessor projects every client, z_i = (R⊗I)·w_i: a key per baby step c·b and giant step
 *   c·B·g, plus the powers of two and the conjugation (69 keys at d = 785, c = 10, N = 16384).
 * - `"submitted"`: clients submit R·w_i and the coprocessor checks it (`consistency.ts`), so only window, stride and slot
 *   sums rotate, all by positive powers of two 1 … slots/2, and the packed terms' real part needs the conjugation (14 keys at N = 16384): keygen, the evaluation bundle and
 *   each worker's key loading shrink about fivefold. A client whose submission fails the check (or that submitted none)
 *   is still projected, its baby and giant rotations composed from those keys (`rotationSchedule`): slower, and with
 *   popcount(step) key switches per rotation, which the flooding bound counts (`projectionKeySwitches`).
 */
export type ProjectionKeyProfile = "submitted" | "computed";

export const PROJECTION_KEY_PROFILES: readonly ProjectionKeyProfile[] = ["submitted", "computed"];

/** Parses a flag value; anything but the two profiles is refused with the value given. */
export function parseProjectionKeyProfile(value: string): ProjectionKeyProfile {
  if (value === "submitted" || value === "computed") return value;
  throw new InvalidInputError("Unknown projection key profile.", {
    details: `"${value}"; expected one of ${PROJECTION_KEY_PROFILES.join(", ")}`,
  });
}

/** The Galois steps of the profile (0 = conjugation), ascending, without duplicates. */
export function shapleyGaloisSteps(plan: MatvecPlan, profile: ProjectionKeyProfile): number[] {
  return profile === "computed" ? requiredGaloisSteps(plan) : [CONJUGATION_STEP, ...slotSumSteps(plan.slotCount)];
}
