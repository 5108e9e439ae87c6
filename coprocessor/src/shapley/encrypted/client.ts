import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, type GeneratedKeys } from "@ciphershare/protocol/ckks/keys";
import type { Encryptor } from "@ciphershare/protocol/ckks/seal";
import type { Matrix } from "../../linalg/matrix";
import { matvecPlan, packModel, requiredGaloisSteps } from "./layout";

/** Custodian: keys whose Galois steps cover the projection by R (d×d) for c outputs and the slot sums. */
export function generateShapleyKeys(ctx: CkksContext, r: Matrix, c: number): GeneratedKeys {
  return generateKeys(ctx, { galoisSteps: requiredGaloisSteps(matvecPlan(r, c, ctx.slotCount)) });
}

/** Client: the fresh ciphertext of vec(w) (row-major d×c in the first d·c slots), serialized. */
export function encryptModel(ctx: CkksContext, w: Matrix, encryptor: Encryptor): Uint8Array {
  const ciphertext = ctx.encrypt(packModel(w, ctx.slotCount), encryptor);
  try {
    return ctx.saveCiphertext(ciphertext);
  } finally {
    ciphertext.delete();
  }
}
