import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { sealCall, type Ciphertext, type GaloisKeys } from "@ciphershare/protocol/ckks/seal";
import { slotSumSteps } from "./layout";

/** Rotate-and-add by 1, 2, …, slots/2: afterwards every slot holds the sum of all slots. */
export function sumSlotsInplace(ctx: CkksContext, galoisKeys: GaloisKeys, ct: Ciphertext): void {
  const rotated = new ctx.seal.Ciphertext();
  try {
    for (const step of slotSumSteps(ctx.slotCount)) {
      sealCall(`rotate by ${step} for a slot sum`, () => {
        ctx.evaluator.rotateVector(ct, step, galoisKeys, rotated);
        ctx.evaluator.addInplace(ct, rotated);
      });
    }
  } finally {
    rotated.delete();
  }
}
