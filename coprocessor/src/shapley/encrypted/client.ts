import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, type GeneratedKeys } from "@ciphershare/protocol/ckks/keys";
import type { Encryptor } from "@ciphershare/protocol/ckks/seal";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { projectModel } from "./consistency";
import { shapleyGaloisSteps, type ProjectionKeyProfile } from "./key-profile";
import { matvecPlan, packModel } from "./layout";

/**
 * Custodian: keys for the encrypted valuation of d×c models projected by R (d×d). "computed" (default): a key for each
 * step of the projection plus the slot sums; "submitted": only the positive powers of two (`key-profile.ts`).
 */
export function generateShapleyKeys(
  ctx: CkksContext,
  r: Matrix,
  c: number,
  profile: ProjectionKeyProfile = "computed",
): GeneratedKeys {
  return generateKeys(ctx, { galoisSteps: shapleyGaloisSteps(matvecPlan(r, c, ctx.slotCount), profile) });
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
