import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { buildEnvelope, envelopeCommitment, EnvelopeError, EnvelopeKind } from "@ciphershare/protocol/ckks/envelope";
import { loadPublicBundle, type LoadedPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import type { Hex } from "@ciphershare/protocol/hex";
import { matrix, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import type { Dataset } from "@ciphershare/protocol/records/dataset";
import { modelTensors, ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import { projectionTensors, withProjection } from "@ciphershare/protocol/round/contribution";
import {
  computeCheckedScores,
  roundKeyOptions,
  validationMatrices,
  type CheckedScores,
  type IncludedInput,
  type RoundComputationInput,
} from "@ciphershare/coprocessor/roles/computation";
import { KeyCustodian } from "@ciphershare/coprocessor/keys/key-custodian";
import { ProjectionAuditError, replayedCheck } from "@ciphershare/coprocessor/roles/projection-audit";
import { InMemoryRoundCommitments } from "@ciphershare/coprocessor/keys/policy";
import { projectModel, roundChallengeSeed } from "@ciphershare/coprocessor/shapley/encrypted/consistency";
import { scoresFromRelease } from "@ciphershare/coprocessor/shapley/encrypted/release";
import { scoresRelease } from "@ciphershare/coprocessor/threshold/release-bounds";
import { valueContributions } from "@ciphershare/coprocessor/shapley/valuation";
import { upperTriangularFactor } from "@ciphershare/protocol/linalg/matrix";
import { seededRandom } from "../../support/ckks";
import { roundKernel, roundCoefficientMap } from "@ciphershare/coprocessor/roles/computation";

// A round's valuation with submitted projections (layout-2 envelopes), on the round's parameter set (deep-v2) with a
// real key custodian releasing each residual envelope flooded once its hash is published: honest contributors are
// valued as before; one that submits another contributor's projection is excluded with its residual, and the others
// are valued as if it had never taken part.
describe("round valuation with submitted projections: check, exclusion, determinism", function () {
  this.timeout(1_800_000);
  const d = 4;
  const c = 2;
  const n = 4;
  const roundId = 1n;
  let ctx: CkksContext;
  let custodian: KeyCustodian;
  let commitments: InMemoryRoundCommitments;
  let bundle: LoadedPublicBundle;
  let bundleBytes: Uint8Array;
  let bundleHash: Hex;
  let validation: Dataset;
  let models: Matrix[];
  const counts = [30, 10, 25, 40];
  const base = { dimension: d, classes: c, weights: new Float64Array(d * c) };
  const seedOf = () => roundChallengeSeed(`0x${"11".repeat(32)}`, `0x${"22".repeat(32)}`);

  before(async () => {
    ctx = await CkksContext.create(ROUND_PARAMETER_SET_ID);
    const passphrase = randomBytes(24).toString("hex");
    const epoch = await KeyCustodian.generateEpochKeys(ctx, passphrase, roundKeyOptions(ctx.slotCount, d, c));
    commitments = new InMemoryRoundCommitments();
    custodian = await KeyCustodian.open(ctx, epoch.keystore, passphrase, { commitments });
    bundle = await loadPublicBundle(ctx, epoch.bundleBytes);
    bundleBytes = epoch.bundleBytes;
    bundleHash = epoch.publicBundleHash;
    // Validation rows with a bias column; labels from a "true" model, contributors its noisy copies.
    const random = seededRandom(7);
    const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const size = 24;
    const features = new Float64Array(size * d);
    const labels = new Uint8Array(size);
    const truth = Array.from({ length: d * c }, gaussian);
    for (let r = 0; r < size; r++) {
      for (let k = 0; k < d - 1; k++) features[r * d + k] = gaussian();
      features[r * d + d - 1] = 1;
      let best = 0;
      let bestScore = -Infinity;
      for (let o = 0; o < c; o++) {
        let score = 0;
        for (let k = 0; k < d; k++) score += features[r * d + k] * truth[k * c + o];
        if (score > bestScore) [best, bestScore] = [o, score];
      }
      labels[r] = best;
    }
    validation = { features, labels, size, dimension: d, classes: c };
    models = Array.from({ length: n }, (_, i) =>
      matrix(
        d,
        c,
        truth.map((t) => 0.2 * t + (0.05 + 0.1 * i) * gaussian()),
      ),
    );
  });

  after(() => {
    bundle?.dispose();
    ctx?.dispose();
  });

  const r = () => upperTriangularFactor(validationMatrices(validation).x);
  const envelopeOf = async (w: Matrix, z?: Matrix) => {
    const model = { tensors: modelTensors(d, c), values: w.data };
    const layout = { dimension: d, classes: c, parameterSet: ctx.parameterSet };
    return encryptModelUpdate(ctx, bundle, z ? withProjection(model, z.data, layout) : model);
  };
  const computationOf = (inputs: IncludedInput[]): RoundComputationInput => ({
    ctx,
    bundleBytes,
    bundleHash,
    inputs,
    validation,
    base,
    workers: 0,
  });
  /** The custodian's part: the residual envelope's hash is published as an output, then released flooded. */
  const custodianCheck = async (released: Uint8Array[]) => ({
    seed: await seedOf(),
    release: async (envelope: Uint8Array, release: Parameters<KeyCustodian["decryptOutput"]>[2]) => {
      released.push(envelope);
      commitments.publishOutput(roundId, await envelopeCommitment(envelope));
      const output = await custodian.decryptOutput(roundId, envelope, release);
      return { value: output.values[0] * output.valueScale, floodingSigma: output.floodingSigma };
    },
  });
  const phiOf = async (result: CheckedScores, sampleCounts: number[]) => {
    commitments.publishOutput(roundId, await envelopeCommitment(result.scores));
    const kernel = roundKernel(validation, base);
    const map = roundCoefficientMap(sampleCounts, kernel);
    const output = await custodian.decryptOutput(roundId, result.scores, scoresRelease(ctx, kernel, map, 16));
    return scoresFromRelease(output, sampleCounts.length).phi;
  };
  const plainPhi = async (positions: number[]) => {
    const { x, y } = validationMatrices(validation);
    const valued = await valueContributions(
      {
        x,
        y,
        base: matrix(d, c),
        models: positions.map((i) => models[i]),
        sampleCounts: positions.map((i) => counts[i]),
      },
      { encrypted: false },
    );
    return valued.phi;
  };
  const close = (actual: number[], expected: number[]) => {
    const scale = Math.max(...expected.map(Math.abs));
    actual.forEach((value, k) => expect(Math.abs(value - expected[k])).to.be.below(1e-3 * scale));
  };

  it("honest projections pass one combined check; φ is the plaintext φ; the bytes do not depend on the workers", async () => {
    const inputs = await Promise.all(
      models.map(async (w, i) => ({ envelope: await envelopeOf(w, projectModel(r(), w)), sampleCount: counts[i] })),
    );
    const released: Uint8Array[] = [];
    const result = await computeCheckedScores(computationOf(inputs), await custodianCheck(released));
    expect(result.excluded).to.deep.equal([]);
    expect(result.valued).to.deep.equal([0, 1, 2, 3]);
    expect(result.residuals).to.have.length(1);
    expect(result.residuals[0].positions).to.deep.equal([0, 1, 2, 3]);
    expect(Math.abs(result.residuals[0].residual)).to.be.at.most(result.residuals[0].tolerance);
    close(await phiOf(result, counts), await plainPhi([0, 1, 2, 3]));
    // The auditor's re-run (here on 2 worker threads) gets the same residual envelope and the same Enc(φ).
    const again: Uint8Array[] = [];
    const replay = await computeCheckedScores({ ...computationOf(inputs), workers: 2 }, await custodianCheck(again));
    expect(Buffer.from(again[0]).equals(Buffer.from(released[0]))).to.equal(true);
    expect(Buffer.from(replay.scores).equals(Buffer.from(result.scores))).to.equal(true);
  });

  it("what the attacker cannot do: submit another contributor's projection — excluded with its residual, the rest valued without it", async () => {
    const honest = models.map((w) => projectModel(r(), w));
    // Contributor 2 sends junk as its model and contributor 0's (much better) projection; contributor 3 sends no
    // projection at all (layout 1) and is projected by the workers.
    const junk = matrix(d, c, new Float64Array(d * c).fill(0.01));
    const inputs = [
      { envelope: await envelopeOf(models[0], honest[0]), sampleCount: counts[0] },
      { envelope: await envelopeOf(models[1], honest[1]), sampleCount: counts[1] },
      { envelope: await envelopeOf(junk, honest[0]), sampleCount: counts[2] },
      { envelope: await envelopeOf(models[3]), sampleCount: counts[3] },
    ];
    const result = await computeCheckedScores(computationOf(inputs), await custodianCheck([]));
    expect(result.valued).to.deep.equal([0, 1, 3]);
    expect(result.excluded).to.have.length(1);
    const [excluded] = result.excluded;
    expect(excluded).to.include({ position: 2, reason: "projection-inconsistent" });
    expect(Math.abs(excluded.residual)).to.be.above(1e3 * excluded.tolerance);
    // The combined check failed, then one per submitter: only contributor 2's own residual is out of tolerance.
    expect(result.residuals.map((x) => x.positions)).to.deep.equal([[0, 1, 2], [0], [1], [2]]);
    expect(result.residuals.map((x) => Math.abs(x.residual) > x.tolerance)).to.deep.equal([true, false, false, true]);
    close(await phiOf(result, [counts[0], counts[1], counts[3]]), await plainPhi([0, 1, 3]));
    // The auditor: the same inputs and seed, the released residuals replayed (each recomputed envelope must be the
    // released one) → the same exclusion and the same Enc(φ) bytes.
    const published = result.residuals.map((x) => ({
      envelope: x.envelope,
      value: x.residual,
      floodingSigma: x.floodingSigma,
    }));
    const audit = await computeCheckedScores(computationOf(inputs), replayedCheck(await seedOf(), published));
    expect(audit.excluded).to.deep.equal(result.excluded);
    expect(Buffer.from(audit.scores).equals(Buffer.from(result.scores))).to.equal(true);
    // Released residuals that are not the recomputed ones (here: another seed's) are refused, naming both hashes.
    let error: unknown;
    try {
      await computeCheckedScores(computationOf(inputs), replayedCheck(`0x${"77".repeat(32)}`, published));
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(ProjectionAuditError);
    expect((error as ProjectionAuditError).details).to.match(/residual 0: recomputed 0x[0-9a-f]{64}, released 0x/);
  });

  it("what the attacker cannot do: hide values past the d·c slots of its projection (unchecked there) to move φ", async () => {
    const honest = models.map((w) => projectModel(r(), w));
    const encrypted = (values: Float64Array) => {
      const ciphertext = ctx.encrypt(values, bundle.encryptor);
      try {
        return ctx.saveCiphertext(ciphertext);
      } finally {
        ciphertext.delete();
      }
    };
    const slots = (data: Float64Array, extra = 0) => {
      const out = new Float64Array(ctx.slotCount);
      out.set(data);
      out[d * c + 3] = extra;
      return out;
    };
    // Contributor 1's projection is R·w_1 in slots 0…d·c−1 (so the check passes) and 50 in slot d·c + 3.
    const forged = await buildEnvelope(
      {
        kind: EnvelopeKind.Contribution,
        parameterSet: ctx.parameterSet,
        publicBundleHash: bundleHash,
        scale: ctx.scale,
        coeffModulusSize: ctx.freshCoeffModulusSize,
        ciphertextSize: 2,
        tensors: projectionTensors({ dimension: d, classes: c, parameterSet: ctx.parameterSet }),
      },
      [encrypted(slots(models[1].data)), encrypted(slots(honest[1].data, 50))],
    );
    const inputs = await Promise.all(
      models.map(async (w, i) => ({
        envelope: i === 1 ? forged : await envelopeOf(w, honest[i]),
        sampleCount: counts[i],
      })),
    );
    const result = await computeCheckedScores(computationOf(inputs), await custodianCheck([]));
    expect(result.excluded).to.deep.equal([]);
    // The hidden slot is masked away before the Gram products: φ is the honest round's.
    close(await phiOf(result, counts), await plainPhi([0, 1, 2, 3]));
  });

  it("a malformed projection chunk is a clear envelope error, before any homomorphic work", async () => {
    const w = models[0];
    const bytes = await envelopeOf(w, projectModel(r(), w));
    // Cut the last ciphertext short: the envelope no longer matches its header.
    const truncated = bytes.subarray(0, bytes.length - 16);
    let error: unknown;
    try {
      await computeCheckedScores(computationOf([{ envelope: truncated, sampleCount: 10 }]), await custodianCheck([]));
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(EnvelopeError);
    expect((error as EnvelopeError).problem).to.equal("truncated");
  });
});
