import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import type { Encryptor } from "@ciphershare/protocol/ckks/seal";
import type { EncryptedMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { encryptMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { systemLayout } from "./keys";
import {
  assertStatistics,
  augmented,
  type ProviderStatistics,
  type TrainingShape,
} from "@ciphershare/protocol/training/statistics";

/** A provider encrypts [A_k | B_k] (d × (d+c)) under the program's public key; n_k stays public. */
export function encryptStatistics(
  ctx: CkksContext,
  stats: ProviderStatistics,
  shape: TrainingShape,
  encryptor: Encryptor,
): EncryptedMatrix {
  assertStatistics(stats, shape);
  return encryptMatrix(ctx, systemLayout(shape, ctx.slotCount), augmented(stats.a, stats.b), encryptor);
}
