import { expect } from "chai";
import { TrainingInputError } from "@ciphershare/protocol/training/errors";
import { systemLayout } from "@ciphershare/coprocessor/training/keys";
import { packRows, unpackRows } from "@ciphershare/protocol/training/layout";
import {
  assertTwoSidedMask,
  blockDiagonal,
  drawMask,
  maskPlaintext,
  orthogonalityDefect,
  transpose,
} from "@ciphershare/coprocessor/training/mask";
import { analyticGaussianSigma, normalCdf, privateStatistics } from "@ciphershare/coprocessor/training/privacy";
import { maxRelativeError, regularized, ridgeFromStatistics } from "@ciphershare/coprocessor/training/ridge";
import { solveMaskedSystem } from "@ciphershare/coprocessor/training/custodian";
import { augmented, providerStatistics } from "@ciphershare/protocol/training/statistics";
import { multiply, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import { syntheticRows } from "./fixtures";

const shape = { features: 6, outputs: 3 };

function rejection(run: () => unknown): TrainingInputError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(TrainingInputError);
    return error as TrainingInputError;
  }
  throw new Error("expected a TrainingInputError");
}

describe("training: statistics, validation, masks and DP (plaintext)", function () {
  const { x, y } = syntheticRows(30, shape.features, shape.outputs, 1);

  it("computes A = XᵀX and B = XᵀY with the row count", function () {
    const stats = providerStatistics(x, y, shape, 30);
    expect(stats.rows).to.equal(30);
    let a01 = 0;
    for (let r = 0; r < x.rows; r++) a01 += x.data[r * 6] * x.data[r * 6 + 1];
    expect(stats.a.data[1]).to.be.closeTo(a01, 1e-12);
    expect(stats.b.rows).to.equal(6);
    expect(stats.b.cols).to.equal(3);
  });

  it("refuses a wrong shape, a NaN and a wrong row count with a named reason", function () {
    const narrow: Matrix = { rows: 30, cols: 5, data: x.data.slice(0, 150) };
    const wrongShape = rejection(() => providerStatistics(narrow, y, shape));
    expect(wrongShape.reason).to.equal("shape");
    expect(wrongShape.message).to.contain("X is 30×5, the program has d = 6");

    const withNaN = { ...x, data: Float64Array.from(x.data) };
    withNaN.data[7] = Number.NaN;
    const nan = rejection(() => providerStatistics(withNaN, y, shape));
    expect(nan.reason).to.equal("non-finite");
    expect(nan.message).to.contain("data rows[1][1] = NaN");

    const count = rejection(() => providerStatistics(x, y, shape, 31));
    expect(count.reason).to.equal("row-count");
    expect(count.message).to.contain("declared 31, the data has 30 rows");
    expect(rejection(() => providerStatistics(x, y, shape, 0)).reason).to.equal("row-count");

    const shortLabels: Matrix = { rows: 29, cols: 3, data: y.data.slice(0, 87) };
    expect(rejection(() => providerStatistics(x, shortLabels, shape)).reason).to.equal("row-count");
  });

  it("packs and unpacks a row-packed matrix", function () {
    const layout = systemLayout({ features: 64, outputs: 10 }, 8192);
    expect(layout.width).to.equal(128);
    expect(layout.ciphertextCount).to.equal(1);
    const m: Matrix = { rows: 64, cols: 74, data: Float64Array.from({ length: 64 * 74 }, (_, i) => i) };
    const back = unpackRows(layout, packRows(layout, m));
    expect(Array.from(back.data)).to.deep.equal(Array.from(m.data));
    expect(systemLayout({ features: 128, outputs: 10 }, 8192).ciphertextCount).to.equal(4);
    expect(() => systemLayout({ features: 785, outputs: 10 }, 8192)).to.throw(/d = 785 \(at most 256\)/);
    expect(() => systemLayout({ features: 0, outputs: 10 }, 8192)).to.throw(/d ≥ 1 features/);
  });

  it("draws orthogonal masks from the CSPRNG and the custodian's solve recovers the ridge model after unmasking", function () {
    const stats = providerStatistics(x, y, shape);
    const mask = drawMask(shape, stats.rows);
    expect(orthogonalityDefect(mask.m)).to.be.below(1e-12);
    expect(orthogonalityDefect(mask.s)).to.be.below(1e-12);
    const system = augmented(regularized(stats.a, 0.1, stats.rows), stats.b);
    const u = solveMaskedSystem(maskPlaintext(system, mask), shape);
    const w = multiply(multiply(mask.n, u), transpose(mask.s));
    expect(maxRelativeError(w, ridgeFromStatistics(stats, 0.1))).to.be.below(1e-10);
    // U itself is not the model.
    expect(maxRelativeError(u, ridgeFromStatistics(stats, 0.1))).to.be.above(0.1);
    expect(blockDiagonal(mask.n, mask.s).rows).to.equal(9);
  });

  it("refuses one-sided masks: an identity or a signed permutation on either side, a non-orthogonal factor, α ≤ 0", function () {
    const mask = drawMask(shape, 10);
    const identity = (size: number): Matrix => {
      const data = new Float64Array(size * size);
      for (let i = 0; i < size; i++) data[i * size + i] = 1;
      return { rows: size, cols: size, data };
    };
    const swapped = identity(6);
    swapped.data.set([0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0], 0);
    expect(() => assertTwoSidedMask({ ...mask, m: identity(6) }, shape)).to.throw(/M is a signed permutation/);
    expect(() => assertTwoSidedMask({ ...mask, n: identity(6) }, shape)).to.throw(/N is a signed permutation/);
    expect(() => assertTwoSidedMask({ ...mask, n: swapped }, shape)).to.throw(/N is a signed permutation/);
    expect(() => assertTwoSidedMask({ ...mask, s: identity(3) }, shape)).to.throw(/S is a signed permutation/);
    const scaled = { ...mask.m, data: mask.m.data.map((v) => 2 * v) };
    expect(() => assertTwoSidedMask({ ...mask, m: scaled }, shape)).to.throw(/M is not orthogonal/);
    expect(() => assertTwoSidedMask({ ...mask, alpha: 0 }, shape)).to.throw(/α must be a positive/);
    expect(() => assertTwoSidedMask(mask, shape)).not.to.throw();
  });

  it("calibrates the analytic Gaussian mechanism: tighter than the classical bound for ε < 1, exact at the boundary", function () {
    expect(normalCdf(0)).to.be.closeTo(0.5, 1e-7);
    expect(normalCdf(1.96)).to.be.closeTo(0.975, 1e-4);
    const sigma = analyticGaussianSigma(0.5, 1e-5, 1);
    const classical = Math.sqrt(2 * Math.log(1.25 / 1e-5)) / 0.5;
    expect(sigma).to.be.below(classical);
    expect(sigma).to.be.above(classical / 2);
    const loss = (s: number) => normalCdf(1 / (2 * s) - 0.5 * s) - Math.exp(0.5) * normalCdf(-1 / (2 * s) - 0.5 * s);
    expect(loss(sigma)).to.be.at.most(1e-5 * (1 + 1e-6));
    expect(loss(sigma * 0.99)).to.be.above(1e-5);
    expect(analyticGaussianSigma(10, 1e-5, 1)).to.be.below(analyticGaussianSigma(1, 1e-5, 1));
  });

  it("adds calibrated noise to clipped statistics and shows the accounting", function () {
    const { stats, accounting } = privateStatistics(x, y, shape, { epsilon: 1, delta: 1e-6, clipNorm: 2 });
    expect(accounting.sensitivity).to.equal(8);
    expect(accounting.sigma).to.equal(analyticGaussianSigma(1, 1e-6, 8));
    expect(accounting.clippedRows).to.be.above(0);
    expect(accounting.description).to.contain("(ε = 1, δ = 0.000001)-DP");
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 6; j++) expect(stats.a.data[i * 6 + j]).to.equal(stats.a.data[j * 6 + i]);
    // The noise is really there, of the announced size.
    const clean = providerStatistics(x, y, shape);
    const diffs = Array.from(stats.b.data, (v, i) => v - clean.b.data[i]);
    expect(Math.max(...diffs.map(Math.abs))).to.be.above(accounting.sigma / 10);
    const bad = rejection(() => privateStatistics(x, y, shape, { epsilon: 0, delta: 1e-6, clipNorm: 1 }));
    expect(bad.reason).to.equal("dp");
    expect(() => privateStatistics(x, y, shape, { epsilon: 1, delta: 1, clipNorm: 1 })).to.throw(/δ must be/);
  });

  it("draws a fresh mask each time (no seed)", function () {
    const a = drawMask(shape, 10);
    const b = drawMask(shape, 10);
    expect(maxRelativeError(a.m, b.m)).to.be.above(0.01);
    expect(a.alpha).not.to.equal(b.alpha);
  });
});
