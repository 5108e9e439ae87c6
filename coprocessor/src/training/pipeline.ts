import { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  generateKeys,
  loadPublicBundle,
  loadSecretKey,
  type LoadedPublicBundle,
  type LoadedSecretKey,
} from "@ciphershare/protocol/ckks/keys";
import { CkksError } from "@ciphershare/protocol/ckks/errors";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { aggregateSystem } from "./aggregate";
import { encryptForBuyer, solveMaskedSystem } from "./custodian";
import { decryptMatrix, type EncryptedMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { buyerGaloisSteps, programGaloisSteps, systemLayout } from "./keys";
import { drawMask, maskedSystem, unmaskModel, type TrainingMask } from "./mask";
import { providerUpload, verifyUpload } from "./upload";
import { assertLambda } from "./ridge";
import type { ProviderStatistics, TrainingShape } from "@ciphershare/protocol/training/statistics";

/** The deep parameter set rounds use on main: 2^80 fresh scale over 60-bit primes, room for two products. */
export const TRAINING_PARAMETER_SET = "deep-v2";

/** Wall-clock seconds of each step, measured (never asserted). */
export interface TrainingTimings {
  readonly keygen: number;
  /** Mean per provider. */
  readonly providerEncrypt: number;
  readonly aggregate: number;
  readonly maskedProduct: number;
  /** Custodian: decrypt the masked system, solve, encrypt U under the buyer's key. */
  readonly solve: number;
  readonly unmask: number;
  readonly buyerDecrypt: number;
}

/** What a run hands to `inspect` before freeing its keys (tests look at who can decrypt what). */
export interface TrainingRunView {
  readonly ctx: CkksContext;
  readonly custodianKey: LoadedSecretKey;
  readonly buyerKey: LoadedSecretKey;
  readonly providers: readonly EncryptedMatrix[];
  readonly maskedSystem: EncryptedMatrix;
  readonly encryptedModel: EncryptedMatrix;
  readonly mask: TrainingMask;
}

export interface EncryptedTraining {
  /** W as the buyer decrypts it. */
  readonly w: Matrix;
  /** The one matrix the custodian decrypted. */
  readonly custodianView: Matrix;
  readonly seconds: TrainingTimings;
  /** Bytes one provider uploads ("CST1": uncompressed SEAL ciphertexts of [A_k | B_k] and a header). */
  readonly providerUploadBytes: number;
  readonly ciphertextsPerProvider: number;
}

/**
 * Every role of a training round in one process with ephemeral keys (tests and the benchmark): providers encrypt
 * their statistics under the program key, the coprocessor loads them as uploaded bytes, aggregates and masks, the
 * custodian decrypts only the masked system, solves and encrypts U for the buyer, the coprocessor unmasks under the
 * buyer's key and the buyer decrypts W. No flooding here: the custodian's release policy and flooding apply to the
 * masked system as to every output (docs/training.md).
 */
export async function trainOnEncryptedStatistics(
  stats: readonly ProviderStatistics[],
  shape: TrainingShape,
  lambda: number,
  options: { inspect?: (view: TrainingRunView) => void } = {},
): Promise<EncryptedTraining> {
  assertLambda(lambda);
  const ctx = await CkksContext.create(TRAINING_PARAMETER_SET);
  const owned: { dispose(): void }[] = [];
  const own = <T extends { dispose(): void }>(value: T): T => {
    owned.push(value);
    return value;
  };
  try {
    const keygenStarted = performance.now();
    const program = generateKeys(ctx, { galoisSteps: programGaloisSteps(shape, ctx.slotCount) });
    const buyer = generateKeys(ctx, { galoisSteps: buyerGaloisSteps(shape, ctx.slotCount) });
    const programBundle: LoadedPublicBundle = own(await loadPublicBundle(ctx, program.bundle));
    const buyerBundle: LoadedPublicBundle = own(await loadPublicBundle(ctx, buyer.bundle));
    const custodianKey = own(loadSecretKey(ctx, program.secretKey));
    const buyerKey = own(loadSecretKey(ctx, buyer.secretKey));
    if (!programBundle.galoisKeys || !buyerBundle.galoisKeys) throw new CkksError("Training keys need Galois keys.");
    const keygen = (performance.now() - keygenStarted) / 1000;

    // Providers: encrypt [A_k | B_k]; the coprocessor receives bytes and checks each is a fresh ciphertext.
    const encryptStarted = performance.now();
    const uploads = stats.map((s) => providerUpload(ctx, s, shape, programBundle.encryptor));
    const providerEncrypt = (performance.now() - encryptStarted) / 1000 / stats.length;
    const providers = uploads.map((bytes, k) => own(verifyUpload(ctx, bytes, shape, stats[k].rows).statistics));

    // Coprocessor: aggregate + λnI, then the two-sided mask.
    const aggregateStarted = performance.now();
    const system = own(
      aggregateSystem(
        ctx,
        providers,
        stats.map((s) => s.rows),
        lambda,
      ),
    );
    const maskStarted = performance.now();
    const totalRows = stats.reduce((sum, s) => sum + s.rows, 0);
    const mask = drawMask(shape, totalRows);
    const masked = own(maskedSystem(ctx, programBundle.galoisKeys, system, mask, shape));
    const maskDone = performance.now();

    // Custodian: decrypts the masked system only, solves, encrypts U under the buyer's key.
    const custodianView = decryptMatrix(ctx, masked, custodianKey.decryptor);
    const u = solveMaskedSystem(custodianView, shape);
    const encryptedU = own(encryptForBuyer(ctx, u, shape, buyerBundle.encryptor));
    const solveDone = performance.now();

    // Coprocessor: unmask under the buyer's key; buyer: decrypt.
    const encryptedModel = own(unmaskModel(ctx, buyerBundle.galoisKeys, encryptedU, mask, shape));
    const unmaskDone = performance.now();
    const w = decryptMatrix(ctx, encryptedModel, buyerKey.decryptor);
    const buyerDone = performance.now();

    options.inspect?.({ ctx, custodianKey, buyerKey, providers, maskedSystem: masked, encryptedModel, mask });
    return {
      w,
      custodianView,
      providerUploadBytes: uploads[0].length,
      ciphertextsPerProvider: systemLayout(shape, ctx.slotCount).ciphertextCount,
      seconds: {
        keygen,
        providerEncrypt,
        aggregate: (maskStarted - aggregateStarted) / 1000,
        maskedProduct: (maskDone - maskStarted) / 1000,
        solve: (solveDone - maskDone) / 1000,
        unmask: (unmaskDone - solveDone) / 1000,
        buyerDecrypt: (buyerDone - unmaskDone) / 1000,
      },
    };
  } finally {
    for (const value of owned.reverse()) value.dispose();
    ctx.dispose();
  }
}
