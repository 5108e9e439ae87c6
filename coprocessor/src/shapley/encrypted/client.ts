import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, type GeneratedKeys } from "@ciphershare/protocol/ckks/keys";
import type { Encryptor } from "@ciphershare/protocol/ckks/seal";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { projectModel } from "./consistency";
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

/**
 * Client: the fresh ciphertext of vec(R·w), its projection by the public R, in the layout of `encryptModel` (what the
 * coprocessor would otherwise compute from Enc(w) with 55 rotations and 785 plaintext products).
 */
export function encryptProjection(ctx: CkksContext, r: Matrix, w: Matrix, encryptor: Encryptor): Uint8Array {
  return encryptModel(ctx, projectModel(r, w), encryptor);
}
