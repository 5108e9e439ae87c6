import { expect } from "chai";
import fc from "fast-check";
import { integralCoefficientRows } from "@ciphershare/coprocessor/shapley/integral-coefficients";
import {
  applyCoefficientMap,
  exactCoefficientMap,
  MAX_EXACT_CLIENTS,
  subsetCoefficientMap,
} from "@ciphershare/coprocessor/shapley/coefficients";
import {
  biasIndex,
  entryCount,
  gramOfProblem,
  pairIndex,
  utilityFromGram,
} from "@ciphershare/coprocessor/shapley/gram";
import { matrix } from "@ciphershare/protocol/linalg/matrix";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { classCoefficientRows } from "./coalition-classes";
import { randomProblem } from "./fixtures";

const constants = { normalizer: 6, yNormSquared: 1, utilityEmpty: 0 };

/** Sample counts of the kinds that stress the map: random, all equal, and extreme (1 and 10⁶ mixed). */
const sampleCounts = (n: number) =>
  fc.oneof(
    fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: n, maxLength: n }),
    fc.integer({ min: 1, max: 1e6 }).map((m) => new Array<number>(n).fill(m)),
    fc.array(fc.constantFrom(1, 1e6), { minLength: n, maxLength: n }),
    fc.array(fc.double({ min: 0, max: 14, noNaN: true }), { minLength: n, maxLength: n }).map((l) => l.map(Math.exp)),
  );

/** max over rows k of max_p |A[k,p] − B[k,p]| / max_p |B[k,p]|. */
function rowRelativeGap(actual: Float64Array, expected: Float64Array, n: number): number {
  const entries = entryCount(n);
  let worst = 0;
  for (let k = 0; k < n; k++) {
    let scale = 0;
    let gap = 0;
    for (let p = k * entries; p < (k + 1) * entries; p++) {
      scale = Math.max(scale, Math.abs(expected[p]));
      gap = Math.max(gap, Math.abs(actual[p] - expected[p]));
    }
    worst = Math.max(worst, gap / scale);
  }
  return worst;
}

function entryRelativeGap(actual: Float64Array, expected: Float64Array): number {
  let worst = 0;
  expected.forEach((value, p) => (worst = Math.max(worst, Math.abs(actual[p] - value) / Math.abs(value))));
  return worst;
}

describe("shapley: the integral-form coefficient map", () => {
  it("equals the subset map to 1e-12 (row-relative) for n = 1…20, random, equal and extreme counts", () => {
    for (let n = 1; n <= 20; n++) {
      fc.assert(
        fc.property(sampleCounts(n), (counts) => {
          const integral = integralCoefficientRows(counts, constants.normalizer);
          const subset = subsetCoefficientMap(counts, constants).rows;
          expect(rowRelativeGap(integral, subset, n)).to.be.below(1e-12);
        }),
        { numRuns: n <= 16 ? 12 : 3 },
      );
    }
  });

  it("equals a one-signed sum over coalition classes entry by entry (1e-12), where the subset map cancels", () => {
    // Two and three distinct counts: the class sums stay exact far beyond 20 clients.
    const cases = [
      Array.from({ length: 10 }, (_, i) => (i % 3 ? 1 : 1e6)),
      Array.from({ length: 12 }, (_, i) => 1 + ((i * 37) % 101)),
      Array.from({ length: 50 }, (_, i) => (i % 2 ? 1 : 1e6)),
      Array.from({ length: 50 }, () => 9),
      Array.from({ length: 60 }, (_, i) => [3, 700, 41][i % 3]),
    ];
    for (const counts of cases) {
      const oracle = classCoefficientRows(counts, constants.normalizer);
      expect(entryRelativeGap(integralCoefficientRows(counts, constants.normalizer), oracle)).to.be.below(1e-12);
    }
    // The subset map's small entries are differences of two large coalition sums: 1e-9 off with 1 and 10⁶.
    const extreme = cases[0];
    const subsetGap = entryRelativeGap(subsetCoefficientMap(extreme, constants).rows, classCoefficientRows(extreme, 6));
    expect(subsetGap).to.be.above(1e-11);
  });

  it("does not depend on the scale of the sample counts or on the order of the clients", () => {
    const counts = [5, 1, 300, 42, 42, 7, 1000, 2];
    const n = counts.length;
    const rows = integralCoefficientRows(counts, 2);
    expect(
      entryRelativeGap(
        integralCoefficientRows(
          counts.map((m) => m * 1e9),
          2,
        ),
        rows,
      ),
    ).to.be.below(1e-13);
    // Reversing the clients reverses rows and relabels the Gram entries.
    const reversed = integralCoefficientRows([...counts].reverse(), 2);
    const entries = entryCount(n);
    const reference = exactCoefficientMap(counts, { ...constants, normalizer: 2 });
    const gram = Float64Array.from({ length: entries }, (_, p) => Math.sin(p + 1));
    const phi = applyCoefficientMap(reference, gram);
    const reversedGram = new Float64Array(entries);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) reversedGram[pairIndex(n - 1 - j, n - 1 - i, n)] = gram[pairIndex(i, j, n)];
      reversedGram[biasIndex(n - 1 - i, n)] = gram[biasIndex(i, n)];
    }
    const phiReversed = applyCoefficientMap({ ...reference, rows: reversed }, reversedGram);
    phi.forEach((value, k) => expect(phiReversed[n - 1 - k]).to.be.closeTo(value, 1e-13 * Math.abs(value)));
  });

  describe("Shapley axioms at n = 50 (random problems)", () => {
    const problems = fc.record({
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      counts: sampleCounts(50),
    });
    const problemOf = (seed: number, counts: number[]) => ({
      ...randomProblem({ n: 50, d: 3, c: 2, rows: 10, seed }),
      sampleCounts: counts,
    });
    const phiOf = (problem: ReturnType<typeof problemOf>) => {
      const { kernel, gram } = gramOfProblem(problem);
      return { kernel, gram, phi: applyCoefficientMap(exactCoefficientMap(problem.sampleCounts, kernel), gram) };
    };

    it("efficiency: Σφ = U(N) − U(∅) to 1e-12", () => {
      fc.assert(
        fc.property(problems, ({ seed, counts }) => {
          const problem = problemOf(seed, counts);
          const { kernel, gram, phi } = phiOf(problem);
          const all = problem.models.map((_, i) => i);
          const gain = utilityFromGram(kernel, gram, counts, all) - kernel.utilityEmpty;
          const sum = phi.reduce((a, b) => a + b, 0);
          expect(Math.abs(sum - gain)).to.be.below(1e-12 * Math.abs(gain));
        }),
        { numRuns: 6 },
      );
    });

    it("symmetry: two clients with the same model and count get the same φ", () => {
      fc.assert(
        fc.property(problems, fc.integer({ min: 1, max: 49 }), ({ seed, counts }, twin) => {
          const problem = problemOf(seed, counts);
          const models = [...problem.models];
          models[twin] = models[0];
          const sampleCounts = [...counts];
          sampleCounts[twin] = sampleCounts[0];
          const { phi } = phiOf({ ...problem, models, sampleCounts });
          const scale = Math.max(...phi.map(Math.abs));
          expect(Math.abs(phi[twin] - phi[0])).to.be.below(1e-12 * scale);
        }),
        { numRuns: 6 },
      );
    });

    it("null player: updates invisible to the validation set earn φ = 0", () => {
      fc.assert(
        fc.property(problems, ({ seed, counts }) => {
          const problem = problemOf(seed, counts);
          const { x, base } = problem;
          for (let r = 0; r < x.rows; r++) x.data[r * x.cols] = 0; // feature 0 never appears
          const models = problem.models.map((w) => {
            const out = matrix(w.rows, w.cols, base.data);
            for (let o = 0; o < w.cols; o++) out.data[o] = w.data[o]; // only row 0 differs from w0
            return out;
          });
          const { kernel, phi } = phiOf({ ...problem, x, models });
          const scale = Math.abs(kernel.utilityEmpty) + kernel.yNormSquared / kernel.normalizer;
          phi.forEach((value) => expect(Math.abs(value)).to.be.below(1e-12 * scale));
        }),
        { numRuns: 6 },
      );
    });
  });

  it(`is the exact map up to ${MAX_EXACT_CLIENTS} clients and rejects bad input clearly`, () => {
    expect(() => exactCoefficientMap(new Array(MAX_EXACT_CLIENTS + 1).fill(1), constants)).to.throw(
      InvalidInputError,
      /use sampling/,
    );
    expect(MAX_EXACT_CLIENTS).to.be.at.least(300);
    expect(() => integralCoefficientRows([], 1)).to.throw(InvalidInputError, /At least one/);
    expect(() => integralCoefficientRows([1, 0], 1)).to.throw(InvalidInputError, /positive/);
    expect(() => integralCoefficientRows([1, Number.NaN], 1)).to.throw(InvalidInputError, /positive/);
    expect(() => integralCoefficientRows([1e308, 1e308], 1)).to.throw(InvalidInputError, /overflows/);
    expect(() => integralCoefficientRows([1, 2], 0)).to.throw(InvalidInputError, /normaliser/);
  });
});
