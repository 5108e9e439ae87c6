import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import type { Encryptor } from "@ciphershare/protocol/ckks/seal";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { encryptMatrix, type EncryptedMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { modelLayout } from "./keys";
import { solveLinearSystem } from "./solve";
import { assertFiniteMatrix, splitAugmented, type TrainingShape } from "@ciphershare/protocol/training/statistics";

/**
 * The custodian's solve on the decrypted masked system [P | Q] = α·M·[A+λnI | B]·blockdiag(N, S):
 * U = P⁻¹Q = Nᵀ(A+λnI)⁻¹B·S, which is W = (A+λnI)⁻¹B only after the coprocessor's unmask N·U·Sᵀ.
 */
export function solveMaskedSystem(masked: Matrix, shape: TrainingShape): Matrix {
  assertFiniteMatrix("masked system", masked);
  const { left, right } = splitAugmented(masked, shape.features);
  return solveLinearSystem(left, right);
}

/** Encrypts U under the buyer's public key (the custodian's key cannot decrypt what comes next). */
export function encryptForBuyer(
  ctx: CkksContext,
  u: Matrix,
  shape: TrainingShape,
  buyerEncryptor: Encryptor,
): EncryptedMatrix {
  return encryptMatrix(ctx, modelLayout(shape, ctx.slotCount), u, buyerEncryptor);
}
