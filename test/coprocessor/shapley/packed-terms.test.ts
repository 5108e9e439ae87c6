import { expect } from "chai";
import type { CoefficientMap } from "@ciphershare/coprocessor/shapley/coefficients";
import { entryCount } from "@ciphershare/coprocessor/shapley/gram";
import { termJobs } from "@ciphershare/coprocessor/shapley/encrypted/backend";
import {
  coefficientMask,
  packedMasks,
  packedTerm,
  packedTermCount,
  requiredGaloisSteps,
  matvecPlan,
} from "@ciphershare/coprocessor/shapley/encrypted/layout";
import { matrix } from "@ciphershare/protocol/linalg/matrix";

describe("shapley: packed Gram terms (layout, pure)", () => {
  it("pairs entries (2t, 2t + 1), each exactly once, the last alone when the count is odd", () => {
    for (const entries of [1, 2, 5, entryCount(20), entryCount(21)]) {
      const seen: number[] = [];
      for (let t = 0; t < packedTermCount(entries); t++) {
        const { first, second } = packedTerm(t, entries);
        expect(first).to.equal(2 * t);
        seen.push(first);
        if (second !== undefined) seen.push(second);
        else expect(t).to.equal(packedTermCount(entries) - 1);
      }
      expect(seen).to.deep.equal([...Array(entries).keys()]);
    }
    expect(() => packedTerm(3, 5)).to.throw(/No such packed Gram term/);
  });

  it("deals every packed term to exactly one job", () => {
    const jobs = termJobs(entryCount(20), 8);
    expect(jobs).to.have.length(8);
    expect(jobs.flat().sort((a, b) => a - b)).to.deep.equal([...Array(packedTermCount(entryCount(20))).keys()]);
  });

  it("masks M1 = A/2 and M2 = −A′/4: 2·Re(M1·S + M2·J·S) = A·W1 + A′·W2 when Re S = W1, Re(J·S) = −2·W2", () => {
    const n = 3;
    const entries = entryCount(n);
    const map: CoefficientMap = {
      n,
      entries,
      batches: 1,
      rows: Float64Array.from({ length: n * entries }, (_, i) => Math.sin(i + 1)),
      constant: new Float64Array(n),
      method: "exact",
      outputScale: 4,
    };
    const slots = 16;
    const [w1, w2] = [1.5, -0.7];
    for (let t = 0; t < packedTermCount(entries); t++) {
      const { first, second } = packedTerm(t, entries);
      const masks = packedMasks(map, t, slots);
      const a = coefficientMask(map, first, slots);
      const b = second === undefined ? undefined : coefficientMask(map, second, slots);
      for (let x = 0; x < slots; x++) {
        const released = 2 * (masks.first[x] * w1 + (masks.second ? masks.second[x] * (-2 * w2) : 0));
        expect(released).to.be.closeTo(a[x] * w1 + (b ? b[x] * w2 : 0), 1e-15);
      }
    }
  });

  it("the Shapley keys hold the conjugation (Galois step 0)", () => {
    const steps = requiredGaloisSteps(matvecPlan(matrix(4, 4, new Array(16).fill(1)), 2, 64));
    expect(steps[0]).to.equal(0);
  });
});
