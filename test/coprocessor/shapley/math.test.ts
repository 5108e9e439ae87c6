import { expect } from "chai";
import fc from "fast-check";
import {
  applyBatchMaps,
  applyCoefficientMap,
  coefficientStandardError,
  combineBatches,
  exactCoefficientMap,
  sampledCoefficientMap,
  subsetCoefficientMap,
  type CoefficientMap,
} from "@ciphershare/coprocessor/shapley/coefficients";
import { gramOfProblem, utilityFromGram } from "@ciphershare/coprocessor/shapley/gram";
import { matrix, multiply, transposeMultiply, upperTriangularFactor } from "@ciphershare/protocol/linalg/matrix";
import { coalitionUtility, members, referenceShapley } from "@ciphershare/coprocessor/shapley/utility";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { scoresFromRelease, SHAPLEY_SCORES_TENSOR } from "@ciphershare/coprocessor/shapley/encrypted/release";
import {
  coefficientMask,
  constantMask,
  outputBlock,
  strideSumSteps,
  windowSumSteps,
} from "@ciphershare/coprocessor/shapley/encrypted/layout";
import { randomProblem } from "./fixtures";

const shapes = fc.record({
  n: fc.integer({ min: 1, max: 6 }),
  d: fc.integer({ min: 1, max: 5 }),
  c: fc.integer({ min: 1, max: 3 }),
  rows: fc.integer({ min: 2, max: 9 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

function closeTo(actual: number, expected: number, relative: number, scale: number) {
  expect(Math.abs(actual - expected)).to.be.at.most(relative * Math.max(scale, 1e-12));
}

function gramShapley(problem: ReturnType<typeof randomProblem>) {
  const { kernel, gram } = gramOfProblem(problem);
  const map = exactCoefficientMap(problem.sampleCounts, kernel);
  return applyCoefficientMap(map, gram);
}

describe("shapley: pure math", () => {
  it("R from Householder QR satisfies RᵀR = XᵀX, also when X is rank-deficient or wide", () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const x = randomProblem(shape).x;
        // Duplicate a column and zero one to make X rank-deficient, as MNIST's blank pixels do.
        if (x.cols > 1) for (let r = 0; r < x.rows; r++) x.data[r * x.cols] = x.data[r * x.cols + 1];
        for (let r = 0; r < x.rows; r++) x.data[r * x.cols + x.cols - 1] = 0;
        const r = upperTriangularFactor(x);
        const rtr = transposeMultiply(r, r);
        const xtx = transposeMultiply(x, x);
        const scale = Math.max(...xtx.data.map(Math.abs));
        xtx.data.forEach((v, k) => closeTo(rtr.data[k], v, 1e-12, scale));
        for (let i = 0; i < r.rows; i++) for (let j = 0; j < i; j++) expect(r.data[i * r.cols + j]).to.equal(0);
      }),
    );
  });

  it("the Gram-form utility equals the explicit coalition-model utility for every coalition", () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const problem = randomProblem(shape);
        const { kernel, gram } = gramOfProblem(problem);
        for (let s = 0; s < 1 << shape.n; s++) {
          const coalition = members(s, shape.n);
          const explicit = coalitionUtility(problem, coalition);
          closeTo(utilityFromGram(kernel, gram, problem.sampleCounts, coalition), explicit, 1e-10, Math.abs(explicit));
        }
      }),
    );
  });

  it("the exact coefficient map reproduces the explicit reference φ", () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const problem = randomProblem(shape);
        const reference = referenceShapley(problem);
        const phi = gramShapley(problem);
        const scale = Math.max(...reference.phi.map(Math.abs));
        reference.phi.forEach((value, k) => closeTo(phi[k], value, 1e-9, scale));
      }),
    );
  });

  it("efficiency: Σφ = U(N) − U(∅)", () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const problem = randomProblem(shape);
        const { utilityAll, utilityEmpty, phi } = referenceShapley(problem);
        const sum = phi.reduce((a, b) => a + b, 0);
        closeTo(sum, utilityAll - utilityEmpty, 1e-10, Math.abs(utilityAll - utilityEmpty));
        const gramSum = gramShapley(problem).reduce((a, b) => a + b, 0);
        closeTo(gramSum, utilityAll - utilityEmpty, 1e-9, Math.abs(utilityAll - utilityEmpty));
      }),
    );
  });

  it("symmetry: two clients with the same model and sample count get the same φ", () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const n = Math.max(shape.n, 2);
        const problem = randomProblem({ ...shape, n });
        const models = [...problem.models];
        models[1] = models[0];
        const sampleCounts = [...problem.sampleCounts];
        sampleCounts[1] = sampleCounts[0];
        const twin = { ...problem, models, sampleCounts };
        const reference = referenceShapley(twin).phi;
        const phi = gramShapley(twin);
        const scale = Math.max(...reference.map(Math.abs));
        closeTo(reference[0], reference[1], 1e-10, scale);
        closeTo(phi[0], phi[1], 1e-9, scale);
      }),
    );
  });

  it("null player: updates that only touch features absent from the validation set earn φ = 0", () => {
    // Under FedAvg, U(S ∪ {k}) = U(S) for all S forces X·w_k = X·w_S = X·w0, so null players are clients whose
    // update from w0 lies in the null space of X (like weights on MNIST's always-blank border pixels).
    fc.assert(
      fc.property(shapes, (shape) => {
        const problem = randomProblem({ ...shape, d: Math.max(shape.d, 2) });
        const { x, base } = problem;
        for (let r = 0; r < x.rows; r++) x.data[r * x.cols] = 0; // feature 0 never appears
        const models = problem.models.map((w) => {
          const out = matrix(w.rows, w.cols, base.data);
          for (let o = 0; o < w.cols; o++) out.data[o] = w.data[o]; // row 0 of w differs, the rest equals w0
          return out;
        });
        const nullProblem = { ...problem, x, models };
        const reference = referenceShapley(nullProblem);
        const phi = gramShapley(nullProblem);
        const scale = Math.abs(reference.utilityEmpty);
        reference.phi.forEach((value, k) => {
          expect(Math.abs(value)).to.be.below(1e-12 * Math.max(scale, 1));
          expect(Math.abs(phi[k])).to.be.below(1e-9 * Math.max(scale, 1));
        });
      }),
    );
  });

  it("sampled coefficients converge to the exact ones, keep efficiency exactly, and report a standard error", () => {
    const problem = randomProblem({ n: 7, d: 4, c: 2, rows: 12, seed: 7 });
    const { kernel, gram } = gramOfProblem(problem);
    const exact = applyCoefficientMap(exactCoefficientMap(problem.sampleCounts, kernel), gram);
    const map = sampledCoefficientMap(problem.sampleCounts, kernel, { permutations: 4000, batches: 10, seed: 3 });
    const phi = applyCoefficientMap(map, gram);
    const batchEstimates = applyBatchMaps(map, gram);
    const combined = combineBatches(batchEstimates);
    const target = exact.reduce((a, b) => a + b, 0);
    for (const estimate of [...batchEstimates, phi])
      closeTo(
        estimate.reduce((a, b) => a + b, 0),
        target,
        1e-9,
        Math.abs(target),
      );
    const { standardError } = combined;
    phi.forEach((value, k) => {
      // The released map is the mean of the batch maps, so φ̂ is the mean of the batch estimates.
      closeTo(value, combined.phi[k], 1e-12, Math.abs(target));
      expect(standardError[k]).to.be.above(0);
      expect(Math.abs(value - exact[k])).to.be.below(5 * standardError[k] + 1e-12);
    });
  });

  it("the coefficients' standard error is public, bounds φ's batch standard error by ‖x‖, and shrinks like 1/√P", () => {
    const problem = randomProblem({ n: 5, d: 3, c: 2, rows: 10, seed: 2 });
    const { kernel, gram } = gramOfProblem(problem);
    const exactMap = exactCoefficientMap(problem.sampleCounts, kernel);
    expect(coefficientStandardError(exactMap)).to.equal(undefined);
    const gramNorm = Math.hypot(...gram);
    const mapAt = (permutations: number, seed: number) =>
      sampledCoefficientMap(problem.sampleCounts, kernel, { permutations, batches: 50, seed });
    // Pooled over all rows, so that 50 batches estimate it to a few percent.
    const pooledError = (map: CoefficientMap) => Math.hypot(...coefficientStandardError(map)!.norm);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const map = mapAt(1000, seed);
        const coefficients = coefficientStandardError(map)!;
        const { standardError } = combineBatches(applyBatchMaps(map, gram));
        standardError.forEach((se, k) => expect(se).to.be.at.most(coefficients.norm[k] * gramNorm * (1 + 1e-12)));
        coefficients.relative.forEach((relative, k) =>
          closeTo(
            relative * Math.hypot(...map.rows.subarray(k * map.entries, (k + 1) * map.entries)),
            coefficients.norm[k],
            1e-12,
            coefficients.norm[k],
          ),
        );
        expect(coefficients.maxRelative).to.equal(Math.max(...coefficients.relative));
        // 16× the permutations: the standard error of the mean map falls by √16 = 4 (3.5–5.2 over 1 000 seeds).
        expect(pooledError(map) / pooledError(mapAt(16000, seed))).to.be.within(3, 5.7);
      }),
      { numRuns: 10 },
    );
  });

  it("rejects subset enumeration beyond its limit and mismatched inputs with clear errors", () => {
    const constants = { normalizer: 1, yNormSquared: 1, utilityEmpty: 0 };
    expect(() => subsetCoefficientMap(new Array(23).fill(1), constants)).to.throw(InvalidInputError, /2\^n/);
    expect(() => sampledCoefficientMap([1, 2], constants, { permutations: 10, batches: 1 })).to.throw(
      InvalidInputError,
      /2 batches/,
    );
    const problem = randomProblem({ n: 2, d: 2, c: 1, rows: 3, seed: 1 });
    const sampled = sampledCoefficientMap([1, 2], constants, { permutations: 10, batches: 2 });
    const release = (values: number, shape: number[]) => ({
      tensors: [{ name: SHAPLEY_SCORES_TENSOR, shape }],
      values: new Float64Array(values),
      valueScale: sampled.outputScale,
    });
    expect(() => scoresFromRelease(release(2 * 2, [1, 4]), sampled.n)).to.throw(
      InvalidInputError,
      /one score per client/,
    );
    expect(() => scoresFromRelease(release(2, [1, 2]), 3)).to.throw(InvalidInputError, /one score per client/);
    expect(() =>
      scoresFromRelease({ ...release(2, [1, 2]), tensors: [{ name: "weights", shape: [1, 2] }] }, 2),
    ).to.throw(InvalidInputError, /not a score envelope/);
    expect(scoresFromRelease(release(2, [1, 2]), 2).phi).to.deep.equal([0, 0]);
    expect(() => referenceShapley({ ...problem, sampleCounts: [1] })).to.throw(InvalidInputError, /sample count/);
    expect(() => multiply(matrix(2, 3), matrix(2, 3))).to.throw(InvalidInputError, /chain/);
  });

  it("output layout: window sums, block-periodic masks and one stride sum give Σ_p A[k][p]·Σ_s prod_p[s] in slot k", () => {
    const rotateAndAdd = (v: Float64Array, steps: number[]) => {
      for (const step of steps) {
        const rotated = Float64Array.from(v, (_, x) => v[(x + step) % v.length]);
        for (let x = 0; x < v.length; x++) v[x] += rotated[x];
      }
    };
    for (const n of [1, 3, 4, 5]) {
      const slots = 64;
      const block = outputBlock(n);
      expect(block)
        .to.be.at.least(n)
        .and.below(2 * Math.max(n, 1));
      expect(windowSumSteps(block).length + strideSumSteps(block, slots).length).to.equal(Math.log2(slots));
      const entries = 7;
      let seed = n;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
      const map = {
        n,
        entries,
        rows: Float64Array.from({ length: n * entries }, random),
        constant: Float64Array.from({ length: n }, random),
        outputScale: 4,
      } as unknown as CoefficientMap;
      const products = Array.from({ length: entries }, () => Float64Array.from({ length: slots }, random));
      const total = new Float64Array(slots);
      products.forEach((product, p) => {
        const windowed = Float64Array.from(product);
        rotateAndAdd(windowed, windowSumSteps(block));
        const mask = coefficientMask(map, p, slots);
        for (let x = 0; x < slots; x++) total[x] += mask[x] * windowed[x];
      });
      rotateAndAdd(total, strideSumSteps(block, slots));
      const constant = constantMask(map, slots);
      for (let x = 0; x < slots; x++) {
        const k = x % block;
        if (k >= n) {
          expect(total[x]).to.equal(0);
          expect(constant[x]).to.equal(0);
          continue;
        }
        const expected = products.reduce(
          (sum, product, p) => sum + (map.rows[k * entries + p] / 4) * product.reduce((a, b) => a + b, 0),
          0,
        );
        expect(total[x]).to.be.closeTo(expected, 1e-9);
        expect(constant[x]).to.equal(map.constant[k] / 4);
      }
    }
  });
});
