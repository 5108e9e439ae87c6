import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { CkksError } from "@ciphershare/protocol/ckks/errors";
import { sealCall, type Ciphertext, type GaloisKeys } from "@ciphershare/protocol/ckks/seal";
import { slotSumSteps } from "./layout";

/** Rotate-and-add by 1, 2, …, slots/2: afterwards every slot holds the sum of all slots. */
export function sumSlotsInplace(ctx: CkksContext, galoisKeys: GaloisKeys, ct: Ciphertext): void {
  rotateAndAddInplace(ctx, galoisKeys, ct, slotSumSteps(ctx.slotCount));
}

/**
 * ct ← ct + rot(ct, s) for each step s in turn. With steps a, 2a, …, 2^(m−1)·a, slot x ends with
 * Σ_{t < 2^m} ct[x + t·a] (a window sum for a = 1, a stride sum otherwise).
 */
export function rotateAndAddInplace(
  ctx: CkksContext,
  galoisKeys: GaloisKeys,
  ct: Ciphertext,
  steps: readonly number[],
): void {
  const rotated = new ctx.seal.Ciphertext();
  try {
    for (const step of steps) {
      sealCall(`rotate by ${step} and add`, () => {
        ctx.evaluator.rotateVector(ct, step, galoisKeys, rotated);
        ctx.evaluator.addInplace(ct, rotated);
      });
    }
  } finally {
    rotated.delete();
  }
}

/**
 * destination ← rot(source, Σ schedule): one rotation per entry of the schedule (`rotationSchedule`), in its order, so
 * the bytes are the same on every worker. `destination` may be `source` (rotated in place).
 */
export function rotateComposed(
  ctx: CkksContext,
  galoisKeys: GaloisKeys,
  schedule: readonly number[],
  source: Ciphertext,
  destination: Ciphertext,
): void {
  if (schedule.length === 0) throw new CkksError("A composed rotation needs at least one step.");
  if (source === destination) ctx.evaluator.rotateVectorInplace(destination, schedule[0], galoisKeys);
  else ctx.evaluator.rotateVector(source, schedule[0], galoisKeys, destination);
  for (const step of schedule.slice(1)) ctx.evaluator.rotateVectorInplace(destination, step, galoisKeys);
}
