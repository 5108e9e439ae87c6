import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  loadPublicBundle,
  loadSecretKey,
  powerOfTwoSteps,
  serializePublicBundle,
  type LoadedPublicBundle,
  type LoadedSecretKey,
} from "@ciphershare/protocol/ckks/keys";
import type { Hex } from "@ciphershare/protocol/hex";
import { exactCoefficientMap } from "@ciphershare/coprocessor/shapley/coefficients";
import { validationKernel } from "@ciphershare/coprocessor/shapley/gram";
import { matvecPlan, readScores } from "@ciphershare/coprocessor/shapley/encrypted/layout";
import {
  encryptModel,
  encryptProjection,
  generateShapleyKeys,
} from "@ciphershare/coprocessor/shapley/encrypted/client";
import {
  consistencyNoiseBound,
  consistencyTolerance,
  plaintextResidual,
  projectionChallenge,
  projectModel,
  roundChallengeSeed,
} from "@ciphershare/coprocessor/shapley/encrypted/consistency";
import {
  computeEncryptedScores,
  type ProjectionConsistency,
} from "@ciphershare/coprocessor/shapley/encrypted/pipeline";
import { valueContributions } from "@ciphershare/coprocessor/shapley/valuation";
import { referenceShapley } from "@ciphershare/coprocessor/shapley/utility";
import { matrix, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import { noiseParameters } from "@ciphershare/coprocessor/threshold/noise-bound";
import { randomProblem } from "./fixtures";

const SEED: Hex = `0x${"5eed".repeat(16)}`;
const relativeError = (actual: readonly number[], expected: readonly number[]) =>
  Math.max(...actual.map((value, k) => Math.abs(value - expected[k]))) / Math.max(...expected.map(Math.abs));
const scaled = (m: Matrix, factor: number) =>
  matrix(
    m.rows,
    m.cols,
    m.data.map((v) => v * factor),
  );

describe("shapley: submitted projections and their consistency check", function () {
  this.timeout(600_000);
  const problem = randomProblem({ n: 4, d: 6, c: 3, rows: 25, seed: 11 });
  const kernel = validationKernel(problem.x, problem.y, problem.base);
  const honest = problem.models.map((w) => projectModel(kernel.r, w));

  it("the challenge is deterministic, and ⟨v, w⟩ = ⟨ρ, R·w⟩: honest residuals vanish, wrong projections do not", () => {
    const a = projectionChallenge(SEED, 2, kernel.r, 3, 64);
    const b = projectionChallenge(SEED, 2, kernel.r, 3, 64);
    expect(Array.from(a.rho)).to.deep.equal(Array.from(b.rho));
    expect(Array.from(a.v)).to.deep.equal(Array.from(b.v));
    expect(Array.from(projectionChallenge(SEED, 3, kernel.r, 3, 64).rho)).to.not.deep.equal(Array.from(a.rho));
    expect(a.rho.slice(18).every((x) => x === 0)).to.equal(true);
    const challenges = problem.models.map((_, i) => projectionChallenge(SEED, i, kernel.r, 3, 64));
    const size = plaintextResidual(
      challenges,
      problem.models,
      honest.map((z) => scaled(z, 0)),
    );
    expect(Math.abs(plaintextResidual(challenges, problem.models, honest))).to.be.below(1e-12 * Math.abs(size));
    const swapped = [honest[0], honest[0], honest[2], honest[3]];
    expect(Math.abs(plaintextResidual(challenges, problem.models, swapped))).to.be.above(1e-3 * Math.abs(size));
  });

  it("a round's seed binds the commitments hash and a later block's randomness, and anyone re-derives it", async () => {
    const commitments: Hex = `0x${"11".repeat(32)}`;
    const block: Hex = `0x${"22".repeat(32)}`;
    const seed = await roundChallengeSeed(commitments, block);
    expect(await roundChallengeSeed(commitments, block)).to.equal(seed);
    expect(await roundChallengeSeed(commitments, `0x${"23".repeat(32)}`)).to.not.equal(seed);
    expect(await roundChallengeSeed(`0x${"12".repeat(32)}`, block)).to.not.equal(seed);
    const challenge = (s: Hex) => Array.from(projectionChallenge(s, 0, kernel.r, 3, 64).rho);
    expect(challenge(seed)).to.not.deep.equal(challenge(await roundChallengeSeed(commitments, `0x${"23".repeat(32)}`)));
  });

  describe("under encryption (deep-v1)", () => {
    let ctx: CkksContext;
    let bundle: LoadedPublicBundle;
    let secret: LoadedSecretKey;
    let bundleBytes: Uint8Array;
    let models: Uint8Array[];
    const map = exactCoefficientMap(problem.sampleCounts, kernel);
    const residuals: { indices: readonly number[]; value: number; tolerance: number; bytes: Uint8Array }[] = [];

    before(async () => {
      ctx = await CkksContext.create("deep-v1");
      const keys = generateShapleyKeys(ctx, kernel.r, 3);
      bundleBytes = serializePublicBundle(keys.bundle);
      bundle = await loadPublicBundle(ctx, keys.bundle);
      secret = loadSecretKey(ctx, keys.secretKey);
      models = problem.models.map((w) => encryptModel(ctx, w, bundle.encryptor));
    });

    after(() => {
      secret.dispose();
      bundle.dispose();
      ctx.dispose();
    });

    // The custodian's part, without its flooding: decrypt slot 0 and compare with the tolerance.
    const consistency = (): ProjectionConsistency => ({
      seed: SEED,
      accepts: async (residual, indices) => {
        const ciphertext = ctx.loadCiphertext(residual);
        const slots = ctx.decrypt(ciphertext, secret.decryptor);
        ciphertext.delete();
        const challenges = indices.map((i) => projectionChallenge(SEED, i, kernel.r, 3, ctx.slotCount));
        const tolerance = consistencyTolerance(
          consistencyNoiseBound(noiseParameters(ctx), challenges),
          0,
          challenges,
          64,
        );
        residuals.push({ indices, value: slots[0], tolerance, bytes: residual });
        return Math.abs(slots[0]) <= tolerance;
      },
    });

    const phiOf = (scores: Uint8Array) => {
      const ciphertext = ctx.loadCiphertext(scores);
      const slots = ctx.decrypt(ciphertext, secret.decryptor);
      ciphertext.delete();
      return Array.from(readScores(slots, map));
    };

    it("honest submissions pass one combined check and give φ within 1e-6 without any projection", async () => {
      residuals.length = 0;
      const projections = problem.models.map((w) => encryptProjection(ctx, kernel.r, w, bundle.encryptor));
      const result = await computeEncryptedScores({
        parameterSetId: "deep-v1",
        bundle: bundleBytes,
        models,
        projections,
        consistency: consistency(),
        kernel,
        map,
        workers: 0,
      });
      expect(result.inconsistent).to.deep.equal([]);
      expect(residuals.map((r) => r.indices)).to.deep.equal([[0, 1, 2, 3]]);
      expect(Math.abs(residuals[0].value)).to.be.below(residuals[0].tolerance);
      expect(relativeError(phiOf(result.scores), referenceShapley(problem).phi)).to.be.below(1e-6);
    });

    it("the residual and Enc(φ) are byte-identical on 0 and 2 worker threads (the auditor recomputes both)", async () => {
      const projections = problem.models.map((w) => encryptProjection(ctx, kernel.r, w, bundle.encryptor));
      const run = async (workers: number) => {
        residuals.length = 0;
        const request = { parameterSetId: "deep-v1", bundle: bundleBytes, models, projections, kernel, map };
        const { scores } = await computeEncryptedScores({ ...request, consistency: consistency(), workers });
        return { scores, residual: residuals[0].bytes };
      };
      const embedded = await run(0);
      const threads = await run(2);
      expect(Buffer.from(threads.scores).equals(Buffer.from(embedded.scores))).to.equal(true);
      expect(Buffer.from(threads.residual).equals(Buffer.from(embedded.residual))).to.equal(true);
    });

    it("catches another client's projection and a scaled one, projects those clients itself, φ stays right", async () => {
      residuals.length = 0;
      const submitted = [honest[0], honest[0], scaled(honest[2], 1.01), undefined];
      const projections = submitted.map((z) => (z ? encryptModel(ctx, z, bundle.encryptor) : undefined));
      const result = await computeEncryptedScores({
        parameterSetId: "deep-v1",
        bundle: bundleBytes,
        models,
        projections,
        consistency: consistency(),
        kernel,
        map,
        workers: 0,
      });
      // One combined check over the three submissions fails; then one check each names the two cheaters.
      expect(residuals.map((r) => r.indices)).to.deep.equal([[0, 1, 2], [0], [1], [2]]);
      expect(result.inconsistent).to.deep.equal([1, 2]);
      for (const r of residuals.slice(1)) {
        const cheater = r.indices[0] !== 0;
        expect(Math.abs(r.value) > 1e3 * r.tolerance).to.equal(cheater);
      }
      expect(relativeError(phiOf(result.scores), referenceShapley(problem).phi)).to.be.below(1e-6);
    });

    it("refuses submitted projections without a consistency check", async () => {
      const projections = problem.models.map((w) => encryptProjection(ctx, kernel.r, w, bundle.encryptor));
      let error: unknown;
      try {
        await computeEncryptedScores({
          parameterSetId: "deep-v1",
          bundle: bundleBytes,
          models,
          projections,
          kernel,
          map,
          workers: 0,
        });
      } catch (caught) {
        error = caught;
      }
      expect(String(error)).to.match(/never used unchecked/);
    });
  });

  describe("with the 'submitted' key set: powers of two only (deep-v1)", () => {
    let ctx: CkksContext;
    let bundle: LoadedPublicBundle;
    let secret: LoadedSecretKey;
    let bundleBytes: Uint8Array;
    const map = exactCoefficientMap(problem.sampleCounts, kernel);

    before(async () => {
      ctx = await CkksContext.create("deep-v1");
      const keys = generateShapleyKeys(ctx, kernel.r, 3, "submitted");
      bundleBytes = serializePublicBundle(keys.bundle);
      bundle = await loadPublicBundle(ctx, keys.bundle);
      secret = loadSecretKey(ctx, keys.secretKey);
    });

    after(() => {
      secret.dispose();
      bundle.dispose();
      ctx.dispose();
    });

    const decryptSlots = (bytes: Uint8Array) => {
      const ciphertext = ctx.loadCiphertext(bytes);
      try {
        return ctx.decrypt(ciphertext, secret.decryptor);
      } finally {
        ciphertext.delete();
      }
    };

    it("catches another client's projection; that client is projected by composed rotations, φ stays right", async () => {
      // d = 6, c = 3: baby steps 3, 6 and giant step 9, none a power of two, so the fallback composes every rotation.
      const plan = matvecPlan(kernel.r, 3, ctx.slotCount);
      expect(plan.babySteps).to.deep.equal([3, 6]);
      expect(plan.giantSteps).to.deep.equal([9]);
      expect(bundle.galoisSteps).to.deep.equal([0, ...powerOfTwoSteps(ctx.slotCount, false)]);
      const models = problem.models.map((w) => encryptModel(ctx, w, bundle.encryptor));
      const submitted = [honest[0], honest[0], honest[2], honest[3]];
      const projections = submitted.map((z) => encryptModel(ctx, z, bundle.encryptor));
      const checked: (readonly number[])[] = [];
      const result = await computeEncryptedScores({
        parameterSetId: "deep-v1",
        bundle: bundleBytes,
        models,
        projections,
        consistency: {
          seed: SEED,
          accepts: async (residual, indices) => {
            checked.push(indices);
            const challenges = indices.map((i) => projectionChallenge(SEED, i, kernel.r, 3, ctx.slotCount));
            const tolerance = consistencyTolerance(
              consistencyNoiseBound(noiseParameters(ctx), challenges),
              0,
              challenges,
              64,
            );
            return Math.abs(decryptSlots(residual)[0]) <= tolerance;
          },
        },
        kernel,
        map,
        workers: 0,
      });
      expect(checked).to.deep.equal([[0, 1, 2, 3], [0], [1], [2], [3]]);
      expect(result.inconsistent).to.deep.equal([1]);
      expect(result.seconds.projection).to.be.above(0);
      const phi = Array.from(readScores(decryptSlots(result.scores), map));
      expect(relativeError(phi, referenceShapley(problem).phi)).to.be.below(1e-6);
    });

    it("the fallback projection is byte-identical on 0 and 2 worker threads", async () => {
      const models = problem.models.map((w) => encryptModel(ctx, w, bundle.encryptor));
      const run = (workers: number) =>
        computeEncryptedScores({ parameterSetId: "deep-v1", bundle: bundleBytes, models, kernel, map, workers });
      const [embedded, threads] = [await run(0), await run(2)];
      expect(Buffer.from(threads.scores).equals(Buffer.from(embedded.scores))).to.equal(true);
      const phi = Array.from(readScores(decryptSlots(embedded.scores), map));
      expect(relativeError(phi, referenceShapley(problem).phi)).to.be.below(1e-6);
    });
  });

  it("end to end (deep-v2, custodian release of the flooded residual): a cheater is named, φ within 1e-6", async () => {
    const small = randomProblem({ n: 3, d: 4, c: 2, rows: 12, seed: 4 });
    const plain = await valueContributions(small, { encrypted: false });
    const encrypted = await valueContributions(small, {
      workers: 2,
      keepUnflooded: true,
      challengeSeed: SEED,
      projectionOf: (client, z) => (client === 1 ? scaled(z, 2) : z),
    });
    expect(encrypted.inconsistentProjections).to.deep.equal([1]);
    // One combined check (fails), then one per client: only client 1's residual is above its tolerance.
    const checks = encrypted.projectionChecks!;
    expect(checks.map((c) => c.clients)).to.deep.equal([[0, 1, 2], [0], [1], [2]]);
    expect(checks.map((c) => Math.abs(c.residual) > c.tolerance)).to.deep.equal([true, false, true, false]);
    expect(relativeError(encrypted.unflooded!, plain.phi)).to.be.below(1e-6);
  });
});
