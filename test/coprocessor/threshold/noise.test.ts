import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import {
  generateKeys,
  loadPublicBundle,
  publicBundleHash,
  serializePublicBundle,
} from "@ciphershare/protocol/ckks/keys";
import { parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { fedAvgEncrypted } from "@ciphershare/coprocessor/fedavg/homomorphic";
import { fedAvgWeights } from "@ciphershare/coprocessor/fedavg/weights";
import { modelUpdateFromArray } from "@ciphershare/protocol/formats/model-update";
import { exactCoefficientMap } from "@ciphershare/coprocessor/shapley/coefficients";
import { encryptModel, generateShapleyKeys } from "@ciphershare/coprocessor/shapley/encrypted/client";
import { matvecPlan } from "@ciphershare/coprocessor/shapley/encrypted/layout";
import { projectionKeySwitches } from "@ciphershare/coprocessor/shapley/encrypted/rotations";
import { computeEncryptedScores } from "@ciphershare/coprocessor/shapley/encrypted/pipeline";
import { validationKernel } from "@ciphershare/coprocessor/shapley/gram";
import { coefficientsToNtt, roundedGaussian } from "@ciphershare/coprocessor/threshold/smudging";
import { DEFAULT_FLOODING_POLICY, smudgingSigma } from "@ciphershare/coprocessor/threshold/flooding";
import { decryptToCoefficients, twoRunErrorL2 } from "@ciphershare/coprocessor/threshold/error-measurement";
import {
  fedAvgNoiseBound,
  freshNoiseBound,
  noiseParameters,
  shapleyNoiseBound,
  type NoiseBound,
} from "@ciphershare/coprocessor/threshold/noise-bound";
import { modulusChain } from "@ciphershare/coprocessor/threshold/modulus-chain";
import { soleKeyShare } from "@ciphershare/coprocessor/threshold/key-share";
import { ThresholdError } from "@ciphershare/coprocessor/threshold/errors";
import { addPointwise } from "@ciphershare/coprocessor/threshold/modular";
import { parseCiphertext, serializeCiphertext } from "@ciphershare/coprocessor/threshold/seal-format";
import { sampleUpdate, sharedContext } from "../../support/ckks";
import { randomProblem } from "../shapley/fixtures";

/** A deterministic byte source for reproducible noise statistics. */
function seededFill(seed: bigint) {
  let state = seed;
  return (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) {
      state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      bytes[i] = Number(state >> 56n);
    }
  };
}

/** Runs `compute` under two independent key sets and returns ‖e‖₂ estimated from the two decryptions. */
async function measuredL2(
  ctx: CkksContext,
  compute: (keys: ReturnType<typeof generateKeys>, bundleHash: `0x${string}`) => Promise<Uint8Array>,
  keygen: (ctx: CkksContext) => ReturnType<typeof generateKeys> = (c) => generateKeys(c),
): Promise<number> {
  const runs: bigint[][] = [];
  for (let run = 0; run < 2; run++) {
    const keys = keygen(ctx);
    const hash = await publicBundleHash(keys.bundle);
    const ciphertext = await compute(keys, hash);
    runs.push(decryptToCoefficients(ctx, ciphertext, soleKeyShare(ctx, keys.secretKey, hash)));
  }
  return twoRunErrorL2(runs[0], runs[1]);
}

function describeBound(measured: number, bound: NoiseBound): string {
  const log = (x: number) => Math.log2(x).toFixed(1);
  return `measured ‖e‖ 2^${log(measured)}, model 2^${log(bound.expectedL2)}, bound 2^${log(bound.l2)}`;
}

describe("threshold: error bounds and flooding", function () {
  this.timeout(600_000);

  it("fresh encryptions: the measured error matches the model and stays under the bound", async function () {
    const notes: string[] = [];
    for (const set of ["fast-v1", "deep-v2"]) {
      const ctx = await sharedContext(set);
      const values = sampleUpdate(ctx.slotCount, 9);
      const measured = await measuredL2(ctx, async (keys) => {
        const bundle = await loadPublicBundle(ctx, keys.bundle);
        const ciphertext = ctx.encrypt(values, bundle.encryptor);
        bundle.dispose();
        const bytes = ctx.saveCiphertext(ciphertext);
        ciphertext.delete();
        return bytes;
      });
      const bound = freshNoiseBound(noiseParameters(ctx));
      notes.push(`${set}: ${describeBound(measured, bound)}`);
      expect(measured).to.be.within(0.8 * bound.expectedL2, 1.25 * bound.expectedL2);
      expect(measured).to.be.below(bound.l2);
    }
    this.test!.title += ` [${notes.join("; ")}]`;
  });

  it("the FedAvg aggregate: measured error under the bound, close to the model", async function () {
    const ctx = await sharedContext("deep-v2");
    const counts = [5, 40, 12, 70];
    const updates = counts.map((_, i) => sampleUpdate(7850, 70 + i));
    const measured = await measuredL2(ctx, async (keys, hash) => {
      const bundle = await loadPublicBundle(ctx, keys.bundle);
      const envelopes: Uint8Array[] = [];
      for (const update of updates) envelopes.push(await encryptModelUpdate(ctx, bundle, modelUpdateFromArray(update)));
      bundle.dispose();
      const output = await fedAvgEncrypted(
        ctx,
        envelopes.map((envelope, i) => ({ envelope, sampleCount: counts[i] })),
        { publicBundleHash: hash },
      );
      const parsed = await parseEnvelope(output);
      expect(parsed.header.coeffModulusSize).to.equal(2); // switched down to deep-v2's release level
      return Uint8Array.from(parsed.chunks[0]);
    });
    const bound = fedAvgNoiseBound(noiseParameters(ctx), fedAvgWeights(counts));
    this.test!.title += ` [${describeBound(measured, bound)}]`;
    expect(measured).to.be.within(0.7 * bound.expectedL2, 1.3 * bound.expectedL2);
    expect(measured).to.be.below(bound.l2);
  });

  it("Enc(φ) from the Gram pipeline: measured error under the bound (n = 3, d = 6, c = 3)", async function () {
    const ctx = await sharedContext("deep-v2");
    const problem = randomProblem({ n: 3, d: 6, c: 3, rows: 25, seed: 21 });
    const kernel = validationKernel(problem.x, problem.y, problem.base);
    const map = exactCoefficientMap(problem.sampleCounts, kernel);
    const measured = await measuredL2(
      ctx,
      async (keys) => {
        const bundle = await loadPublicBundle(ctx, keys.bundle);
        const models = problem.models.map((w) => encryptModel(ctx, w, bundle.encryptor));
        bundle.dispose();
        const { scores } = await computeEncryptedScores({
          parameterSetId: "deep-v2",
          bundle: serializePublicBundle(keys.bundle),
          models,
          kernel,
          map,
          workers: 0,
        });
        return scores;
      },
      (c) => generateShapleyKeys(c, kernel.r, 3),
    );
    const norms = problem.models.map((w) => Math.sqrt(w.data.reduce((sum, v) => sum + v * v, 0)));
    const bound = shapleyNoiseBound(noiseParameters(ctx), {
      r: kernel.r,
      xty: kernel.xty,
      map,
      projectionKeySwitches: { babyMax: 1, giantTotal: matvecPlan(kernel.r, 3, ctx.slotCount).giantSteps.length },
      modelNormBound: Math.max(...norms),
    });
    this.test!.title += ` [${describeBound(measured, bound)}]`;
    expect(measured).to.be.below(bound.l2);
    expect(bound.scale).to.be.closeTo(2 ** 100, 2 ** 90);
  });

  it("Enc(φ) with the 'submitted' key set, every client projected by composed rotations: still under the bound", async function () {
    const ctx = await sharedContext("deep-v2");
    const problem = randomProblem({ n: 3, d: 6, c: 3, rows: 25, seed: 21 });
    const kernel = validationKernel(problem.x, problem.y, problem.base);
    const map = exactCoefficientMap(problem.sampleCounts, kernel);
    const plan = matvecPlan(kernel.r, 3, ctx.slotCount);
    let steps: readonly number[] = [];
    const measured = await measuredL2(
      ctx,
      async (keys) => {
        steps = keys.bundle.galoisSteps;
        const bundle = await loadPublicBundle(ctx, keys.bundle);
        const models = problem.models.map((w) => encryptModel(ctx, w, bundle.encryptor));
        bundle.dispose();
        const { scores } = await computeEncryptedScores({
          parameterSetId: "deep-v2",
          bundle: serializePublicBundle(keys.bundle),
          models,
          kernel,
          map,
          workers: 0,
        });
        return scores;
      },
      (c) => generateShapleyKeys(c, kernel.r, 3, "submitted"),
    );
    const norms = problem.models.map((w) => Math.sqrt(w.data.reduce((sum, v) => sum + v * v, 0)));
    const boundWith = (switches: { babyMax: number; giantTotal: number }) =>
      shapleyNoiseBound(noiseParameters(ctx), {
        r: kernel.r,
        xty: kernel.xty,
        map,
        projectionKeySwitches: switches,
        modelNormBound: Math.max(...norms),
      });
    // Baby steps 3 = 1 + 2 and 6 = 2 + 4, giant step 9 = 1 + 8: two key switches where one was.
    const switches = projectionKeySwitches(plan, steps);
    expect(switches).to.deep.equal({ babyMax: 2, giantTotal: 2 });
    const bound = boundWith(switches);
    this.test!.title += ` [${describeBound(measured, bound)}]`;
    expect(measured).to.be.below(bound.l2);
    expect(bound.l2).to.be.above(boundWith({ babyMax: 1, giantTotal: 1 }).l2);
    expect(() => boundWith({ babyMax: 0, giantTotal: 1 })).to.throw(/babyMax 0/);
  });

  it("sizes σ by the rule log2 σ = log2 B + s/2 + ½·log2(64τ), and refuses weaker settings", () => {
    expect(Math.log2(smudgingSigma(2 ** 20))).to.be.closeTo(20 + 15 + 8, 1e-9);
    expect(Math.log2(smudgingSigma(2 ** 20, { statisticalSecurityBits: 40, decryptionBudget: 1 }))).to.be.closeTo(
      20 + 20 + 3,
      1e-9,
    );
    expect(DEFAULT_FLOODING_POLICY).to.deep.equal({ statisticalSecurityBits: 30, decryptionBudget: 1024 });
    expect(() => smudgingSigma(2 ** 20, { statisticalSecurityBits: 29, decryptionBudget: 1 })).to.throw(
      ThresholdError,
      /at least 30 bits/,
    );
    expect(() => smudgingSigma(2 ** 20, { statisticalSecurityBits: 30, decryptionBudget: 0 })).to.throw(ThresholdError);
    expect(() => smudgingSigma(0)).to.throw(ThresholdError, /positive/);
    expect(() => smudgingSigma(2 ** 80)).to.throw(ThresholdError, /wider than the sampler/);
  });

  it("samples rounded Gaussians with the requested σ, integer at every scale (seeded)", () => {
    for (const sigma of [3.2, 2 ** 30, 2 ** 70]) {
      const samples = roundedGaussian(100_000, sigma, seededFill(5n));
      let sum = 0;
      let squares = 0;
      let beyond4 = 0;
      for (const x of samples) {
        const v = Number(x) / sigma;
        sum += v;
        squares += v * v;
        if (Math.abs(v) > 4) beyond4++;
      }
      expect(Math.abs(sum / samples.length)).to.be.below(0.02);
      expect(Math.sqrt(squares / samples.length)).to.be.closeTo(1, 0.02);
      expect(beyond4).to.be.below(30); // P(|Z| > 4) ≈ 6.3e-5
      if (sigma > 2 ** 47) {
        // Beyond 2^47 the low bits come from the dither: uniform, not stuck on a grid.
        const bins = new Array<number>(8).fill(0);
        for (const x of samples) bins[Number(BigInt.asUintN(3, x))]++;
        const chi2 = bins.reduce((acc, count) => acc + (count - 12_500) ** 2 / 12_500, 0);
        expect(chi2).to.be.below(24.3);
      }
    }
    expect(roundedGaussian(4, 0).every((x) => x === 0n)).to.equal(true);
    expect(() => roundedGaussian(4, -1)).to.throw(ThresholdError);
    expect(() => roundedGaussian(4, Number.NaN)).to.throw(ThresholdError);
  });

  it("moves noise to NTT form with SEAL: added to c0 it shifts the decryption by exactly that polynomial", async () => {
    const ctx = await sharedContext("fast-v1");
    const keys = generateKeys(ctx);
    const hash = await publicBundleHash(keys.bundle);
    const bundle = await loadPublicBundle(ctx, keys.bundle);
    const ciphertext = ctx.encrypt(sampleUpdate(100, 3), bundle.encryptor);
    const bytes = ctx.saveCiphertext(ciphertext);
    ciphertext.delete();
    bundle.dispose();
    const key = soleKeyShare(ctx, keys.secretKey, hash);
    const before = decryptToCoefficients(ctx, bytes, key);
    const noise = roundedGaussian(ctx.parameterSet.polyModulusDegree, 2 ** 40, seededFill(9n));
    const raw = parseCiphertext(bytes);
    const level = modulusChain(ctx).levels[0];
    const c0 = raw.data.subarray(0, level.primes.length * raw.polyModulusDegree);
    addPointwise(c0, coefficientsToNtt(ctx, level, [...noise]), level.primes, raw.polyModulusDegree, c0);
    const after = decryptToCoefficients(ctx, serializeCiphertext(raw), key);
    expect(after.map((x, i) => x - before[i])).to.deep.equal(noise);
    expect(() => coefficientsToNtt(ctx, level, [1n, 2n])).to.throw(ThresholdError, /N coefficients/);
  });
});
