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
import { providerStatistics } from "@ciphershare/protocol/training/statistics";
import { providerUpload, verifyUpload } from "@ciphershare/coprocessor/training/upload";
import { syntheticRows } from "./fixtures";
import {
  flaggedResiduals,
  RESIDUAL_TENSOR,
  residualChallengeSeed,
  residualErrorBound,
  residualNoiseBound,
  residualRelease,
  residualSeedNumber,
  residualsFromRelease,
  residualTolerance,
} from "@ciphershare/coprocessor/training/residual-check";
import { noiseParameters } from "@ciphershare/coprocessor/threshold/noise-bound";
import { releasedNoiseStd, smudgingSigma } from "@ciphershare/coprocessor/threshold/flooding";
import type { Hex } from "@ciphershare/protocol/hex";

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

  let measured: { own: number; foreign: number } | undefined;

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
    const own = encryptedRho("own");
    expect(Math.abs(own)).to.be.below(1e-6 * stats.rows);
    measured = { own, foreign: measured?.foreign ?? Number.NaN };
  });

  it("equals the plaintext residual, far above the tolerance, for a model trained on other data", function () {
    const reference = plaintextResidual(stats, foreign, lambda, challenge);
    expect(Math.abs(reference)).to.be.above(0.1);
    const rho = encryptedRho("foreign");
    expect(Math.abs(rho - reference)).to.be.below(1e-6 * Math.abs(reference));
    measured = { own: measured?.own ?? Number.NaN, foreign: rho };
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

  it("sizes the flooding from public facts: above the honest error, the tolerance far below a foreign model's ρ", function () {
    const inputs = { rows: stats.rows, lambda, modelNormBound: 4 };
    const p = noiseParameters(ctx);
    const bound = residualNoiseBound(p, shape, inputs);
    // The conservative bound covers the honest residual's measured error (ρ of the own model is CKKS error alone).
    expect(measured).to.not.equal(undefined);
    expect(bound.l2 / bound.scale).to.be.above(Math.abs(measured!.own));
    const release = residualRelease(ctx, shape, [inputs, { ...inputs, rows: 4 * stats.rows }]);
    // One envelope, one bound: the worst provider's (the bound grows with n_k through |u| ≤ n_k·R²·√d).
    expect(release.errorBound.l2).to.equal(residualNoiseBound(p, shape, { ...inputs, rows: 4 * stats.rows }).l2);
    expect(release.errorBounds[1]).to.be.above(release.errorBounds[0]);
    const sigma = releasedNoiseStd(
      smudgingSigma(release.errorBound.l2),
      1,
      p.polyModulusDegree,
      release.errorBound.scale,
    );
    const tolerance = residualTolerance(residualErrorBound(shape, inputs, p), sigma, ctx.slotCount);
    // The flooding σ dominates the CKKS error, yet the tolerance stays orders below a foreign model's |ρ|.
    expect(sigma).to.be.above(bound.l2 / bound.scale);
    expect(tolerance).to.be.below(1e-2 * Math.abs(measured!.foreign));
    expect(flaggedResiduals([measured!.own, measured!.foreign], [tolerance, tolerance])).to.deep.equal([1]);
    expect(flaggedResiduals([Number.NaN], [tolerance])).to.deep.equal([0]);
    expect(() => residualNoiseBound(p, shape, { ...inputs, rows: 0 })).to.throw(/n_k ≥ 1/);
    console.log(
      `      residual: honest |ρ| ${Math.abs(measured!.own).toExponential(2)}, CKKS bound ${(bound.l2 / bound.scale).toExponential(2)}, ` +
        `flooding σ ${sigma.toExponential(2)}, tolerance ${tolerance.toExponential(2)}, foreign |ρ| ${Math.abs(measured!.foreign).toExponential(2)}`,
    );
  });

  it("derives the challenge from the inputs hash and the closing block, and reads one ρ per provider", async function () {
    const inputs = `0x${"11".repeat(32)}` as Hex;
    const block = `0x${"22".repeat(32)}` as Hex;
    const seed = await residualChallengeSeed(inputs, block);
    expect(seed).to.equal(await residualChallengeSeed(inputs, block));
    expect(seed).to.not.equal(await residualChallengeSeed(inputs, `0x${"23".repeat(32)}` as Hex));
    expect(Number.isSafeInteger(residualSeedNumber(seed))).to.equal(true);
    const values = Float64Array.from([1, 3, 2, 2]);
    const tensors = [{ name: RESIDUAL_TENSOR, shape: [2, 2] }];
    expect(residualsFromRelease({ tensors, values, valueScale: 1 }, 2)).to.deep.equal([2, 2]);
    expect(() => residualsFromRelease({ tensors, values, valueScale: 1 }, 3)).to.throw(/residual envelope/);
    // A chunk whose slots differ (not an Enc(ρ): e.g. statistics wrapped as the envelope) is refused.
    expect(residualsFromRelease({ tensors, values, valueScale: 1 }, 2, 1)).to.deep.equal([2, 2]);
    expect(() => residualsFromRelease({ tensors, values, valueScale: 1 }, 2, 0.5)).to.throw(/not an Enc\(ρ\)/);
    expect(() =>
      residualsFromRelease({ tensors: [{ name: "shapley-phi", shape: [1, 2] }], values, valueScale: 1 }, 2),
    ).to.throw(/residual envelope/);
  });
});
