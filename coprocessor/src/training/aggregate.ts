import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { CkksError } from "@ciphershare/protocol/ckks/errors";
import { deleteAll, sealCall, type Ciphertext } from "@ciphershare/protocol/ckks/seal";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { encryptedMatrix, type EncryptedMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { rowsIn } from "@ciphershare/protocol/training/layout";
import { assertLambda } from "./ridge";
import { assertRowCount } from "@ciphershare/protocol/training/statistics";

/**
 * The coprocessor's first step: Enc([Σ_k A_k + λ·n·I | Σ_k B_k]) from the providers' encrypted [A_k | B_k], with
 * n = Σ_k n_k their public row counts. Additions only: the result stays at the fresh level and scale.
 */
export function aggregateSystem(
  ctx: CkksContext,
  providers: readonly EncryptedMatrix[],
  rowCounts: readonly number[],
  lambda: number,
): EncryptedMatrix {
  if (providers.length === 0) throw new InvalidInputError("Training needs at least one provider.");
  if (rowCounts.length !== providers.length) {
    throw new InvalidInputError("Each provider needs exactly one row count.", {
      details: `${providers.length} providers, ${rowCounts.length} row counts`,
    });
  }
  rowCounts.forEach((rows) => assertRowCount(rows));
  assertLambda(lambda);
  const layout = providers[0].layout;
  for (const [k, p] of providers.entries()) {
    const other = p.layout;
    if (other.rows !== layout.rows || other.cols !== layout.cols || other.width !== layout.width) {
      throw new InvalidInputError("Every provider's statistics must have the program's layout.", {
        details: `provider ${k}: ${other.rows}×${other.cols}, expected ${layout.rows}×${layout.cols}`,
      });
    }
  }
  const ridge = lambda * rowCounts.reduce((sum, n) => sum + n, 0);
  const sums: Ciphertext[] = [];
  try {
    for (let index = 0; index < layout.ciphertextCount; index++) {
      const sum = providers[0].ciphertexts[index].copy();
      sums.push(sum);
      for (const provider of providers.slice(1)) {
        sealCall("add providers' statistics", () => ctx.evaluator.addInplace(sum, provider.ciphertexts[index]));
      }
      if (ridge === 0) continue;
      const diagonal = new Float64Array(ctx.slotCount);
      const first = index * layout.rowsPerCiphertext;
      for (let r = 0; r < rowsIn(layout, index); r++) diagonal[r * layout.width + first + r] = ridge;
      if (sum.scale() !== ctx.scale) throw new CkksError("Provider statistics must be fresh ciphertexts.");
      const plaintext = ctx.encode(diagonal, { scale: sum.scale(), levelOf: sum });
      try {
        sealCall("add λ·n·I", () => ctx.evaluator.addPlainInplace(sum, plaintext));
      } finally {
        plaintext.delete();
      }
    }
  } catch (error) {
    deleteAll(...sums);
    throw error;
  }
  return encryptedMatrix(layout, sums);
}
