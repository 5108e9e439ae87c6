// The training steps the CKKS worker runs, apart from the worker's messaging so tests run them in Node: the CLI's own
// functions (`submissionStatistics`, `providerUpload`, `decryptModelEnvelope`) and the protocol's keystore opening.
import { decryptModelEnvelope } from "@ciphershare/coprocessor/training/buyer";
import { systemLayout } from "@ciphershare/coprocessor/training/keys";
import { submissionStatistics } from "@ciphershare/coprocessor/training/privacy";
import { providerUpload } from "@ciphershare/coprocessor/training/upload";
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { getParameterSet, type CkksParameterSet } from "@ciphershare/protocol/ckks/params";
import type { Encryptor } from "@ciphershare/protocol/ckks/seal";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameHash } from "@ciphershare/protocol/hex";
import { openSecretKeystore } from "@ciphershare/protocol/keys/keystore";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import type { CkksRequest, TrainingUpload } from "./protocol";

type UploadRequest = Pick<Extract<CkksRequest, { kind: "trainingUpload" }>, "x" | "y" | "shape" | "epsilon" | "lambda">;
type ModelRequest = Omit<Extract<CkksRequest, { kind: "decryptModel" }>, "id" | "kind">;

/**
 * A provider's upload as `provider submit` makes it: the statistics with the CLI's ε choice (`submissionStatistics`),
 * then the "CST1" bytes of [A_k | B_k] encrypted under the program key (`providerUpload`), with the provider's local
 * ridge model when the program values its providers (`lambda` given).
 */
export async function makeTrainingUpload(
  ctx: CkksContext,
  encryptor: Encryptor,
  request: UploadRequest,
): Promise<TrainingUpload> {
  const { stats, privacy } = submissionStatistics(request.x, request.y, request.shape, request.epsilon);
  const bytes = providerUpload(
    ctx,
    stats,
    request.shape,
    encryptor,
    request.lambda === undefined ? {} : { lambda: request.lambda },
  );
  return {
    bytes,
    hash: await keccak256(bytes),
    rows: stats.rows,
    ciphertextCount: systemLayout(request.shape, ctx.slotCount).ciphertextCount,
    privacy,
  };
}

/**
 * The buyer's W: opens the keystore with the passphrase, refuses a key of another bundle than the program's buyer key,
 * decrypts the envelope of Enc_buyer(W) (`decryptModelEnvelope`) and zeroes the secret key.
 */
export async function decryptModelWithKeystore(
  contextFor: (parameters: CkksParameterSet) => Promise<CkksContext>,
  request: ModelRequest,
): Promise<Matrix> {
  const { secretKey, metadata } = await openSecretKeystore(request.keystore, request.passphrase);
  try {
    if (!sameHash(metadata.publicBundleHash, request.buyerKeyHash)) {
      throw new Error(
        `This keystore holds the key of bundle ${metadata.publicBundleHash}, not the program's buyer key ${request.buyerKeyHash}.`,
      );
    }
    const ctx = await contextFor(getParameterSet(metadata.parameterSetId));
    return await decryptModelEnvelope(ctx, request.envelope, secretKey, metadata.publicBundleHash, request.shape);
  } finally {
    secretKey.fill(0);
  }
}
