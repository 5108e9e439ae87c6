import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  generateKeys,
  loadPublicBundle,
  loadSecretKey,
  type LoadedPublicBundle,
} from "@ciphershare/protocol/ckks/keys";
import { encryptModel } from "@ciphershare/coprocessor/shapley/encrypted/client";
import { systemLayout } from "@ciphershare/coprocessor/training/keys";
import {
  encryptedResidual,
  plaintextResidual,
  residualChallenge,
  residualGaloisSteps,
} from "@ciphershare/coprocessor/training/residual";
import { ridgeFromStatistics } from "@ciphershare/coprocessor/training/ridge";
import { providerStatistics } from "@ciphershare/coprocessor/training/statistics";
import { providerUpload, verifyUpload } from "@ciphershare/coprocessor/training/upload";
import { syntheticRows } from "./fixtures";

// The consistency check of a local model against the uploaded statistics, under encryption: ρ = rᵀ((A + λnI)W − B)s
// is CKKS error for the provider's own ridge model and of the order of its statistics for anyone else's model.
describe("training: the encrypted residual of a local model against its statistics", function () {
  const shape = { features: 6, outputs: 3 };
  const lambda = 0.01;
  const own = syntheticRows(40, 6, 3, 11);
  const other = syntheticRows(60, 6, 3, 12, { randomLabels: true });
  const stats = providerStatistics(own.x, own.y, shape);
  const foreign = ridgeFromStatistics(providerStatistics(other.x, other.y, shape), lambda);
  const challenge = residualChallenge(shape, 2026);
  let ctx: CkksContext;
  let bundle: LoadedPublicBundle;
  let secretKey: Uint8Array;

  before(async function () {
    ctx = await CkksContext.create("deep-v2");
    const width = systemLayout(shape, ctx.slotCount).width;
    const keys = generateKeys(ctx, { galoisSteps: residualGaloisSteps(shape, width, ctx.slotCount) });
    secretKey = keys.secretKey;
    bundle = await loadPublicBundle(ctx, keys.bundle);
  });
  after(() => {
    bundle?.dispose();
    ctx?.dispose();
  });

  function encryptedRho(model: "own" | "foreign"): number {
    const bytes = providerUpload(
      ctx,
      stats,
      shape,
      bundle.encryptor,
      model === "own" ? { lambda } : { model: foreign },
    );
    const upload = verifyUpload(ctx, bytes, shape, stats.rows, { requireModel: true });
    const w = ctx.loadCiphertext(upload.model!);
    const secret = loadSecretKey(ctx, secretKey);
    try {
      const rho = encryptedResidual(
        ctx,
        { galoisKeys: bundle.galoisKeys!, relinKeys: bundle.relinKeys },
        upload.statistics,
        w,
        stats.rows,
        lambda,
        challenge,
        shape,
      );
      try {
        const slots = ctx.decrypt(rho, secret.decryptor);
        // Every slot holds ρ.
        expect(Math.abs(slots[0] - slots[ctx.slotCount - 1])).to.be.below(1e-6);
        return slots[0];
      } finally {
        rho.delete();
      }
    } finally {
      secret.dispose();
      w.delete();
      upload.dispose();
    }
  }

  it("is CKKS error for the provider's own ridge model", function () {
    const reference = plaintextResidual(stats, ridgeFromStatistics(stats, lambda), lambda, challenge);
    expect(Math.abs(reference)).to.be.below(1e-9);
    expect(Math.abs(encryptedRho("own"))).to.be.below(1e-6 * stats.rows);
  });

  it("equals the plaintext residual, far above the tolerance, for a model trained on other data", function () {
    const reference = plaintextResidual(stats, foreign, lambda, challenge);
    expect(Math.abs(reference)).to.be.above(0.1);
    const rho = encryptedRho("foreign");
    expect(Math.abs(rho - reference)).to.be.below(1e-6 * Math.abs(reference));
  });

  it("refuses a challenge of the wrong size", function () {
    const wrong = residualChallenge({ features: 5, outputs: 3 }, 1);
    const ciphertext = ctx.loadCiphertext(encryptModel(ctx, foreign, bundle.encryptor));
    const upload = verifyUpload(ctx, providerUpload(ctx, stats, shape, bundle.encryptor), shape, stats.rows);
    try {
      expect(() =>
        encryptedResidual(
          ctx,
          { galoisKeys: bundle.galoisKeys!, relinKeys: bundle.relinKeys },
          upload.statistics,
          ciphertext,
          stats.rows,
          lambda,
          wrong,
          shape,
        ),
      ).to.throw(/challenge or the statistics/);
    } finally {
      ciphertext.delete();
      upload.dispose();
    }
  });
});
