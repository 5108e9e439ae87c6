import { join } from "node:path";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import type { Hex } from "@ciphershare/protocol/hex";
import { KeyCustodian } from "../keys/key-custodian";
import { writeKeystoreFile, type ScryptParameters } from "../keys/keystore";
import type { BlobStore } from "../storage/blob-store";
import { buyerGaloisSteps } from "../training/keys";
import { TRAINING_PARAMETER_SET } from "../training/pipeline";
import type { TrainingShape } from "@ciphershare/protocol/training/statistics";
import type { Workspace } from "./workspace";
import { publishBundleParts } from "../storage/key-bundle";

/** Where the buyer keeps its sealed CKKS secret key and the pointer to its published bundle. */
export function buyerFiles(ws: Workspace): { keystoreFile: string; bundlePointerFile: string } {
  return { keystoreFile: join(ws.home, "buyer.keystore.json"), bundlePointerFile: join(ws.home, "buyer-bundle.json") };
}

/**
 * The buyer of a training program generates its own CKKS keys (the training parameter set, with the Galois keys
 * the coprocessor's unmask N·U·Sᵀ needs for d × c), seals the secret key under its passphrase and publishes the
 * public bundle; the bundle's keccak256 is what the program records as the buyer's key. Nobody else holds a key
 * that decrypts the model.
 */
export async function generateBuyerKeys(
  store: BlobStore,
  keystorePath: string,
  passphrase: string,
  shape: TrainingShape,
  scrypt?: ScryptParameters,
): Promise<{ publicBundleHash: Hex; bundleBytes: number; galoisSteps: number }> {
  const ctx = await CkksContext.create(TRAINING_PARAMETER_SET);
  try {
    const galoisSteps = buyerGaloisSteps(shape, ctx.slotCount);
    const keys = await KeyCustodian.generateEpochKeys(ctx, passphrase, { galoisSteps }, scrypt);
    await publishBundleParts(store, keys.parts);
    await writeKeystoreFile(keystorePath, keys.keystore);
    return {
      publicBundleHash: keys.publicBundleHash,
      bundleBytes: keys.bundleBytes.length,
      galoisSteps: galoisSteps.length,
    };
  } finally {
    ctx.dispose();
  }
}
