import { expect } from "chai";
import { ROUND_SAMPLING, roundCoefficientMap, roundValuation } from "@ciphershare/coprocessor/roles/computation";
import { MAX_SAMPLES_PER_CONTRIBUTION } from "@ciphershare/coprocessor/roles/coprocessor";
import { MAX_EXACT_CLIENTS } from "@ciphershare/coprocessor/shapley/coefficients";
import { validationKernel } from "@ciphershare/coprocessor/shapley/gram";
import { laplaceRule } from "@ciphershare/coprocessor/shapley/quadrature";
import { classCoefficientRows } from "../shapley/coalition-classes";
import { randomProblem } from "../shapley/fixtures";

describe("round computation: the Shapley coefficient map", () => {
  const problem = randomProblem({ n: 1, d: 3, c: 2, rows: 8, seed: 4 });
  const kernel = validationKernel(problem.x, problem.y, problem.base);

  it("is exact beyond the 22 contributions coalition enumeration allowed, and reproducible bit for bit", () => {
    // Contributors at both ends of the sample-count policy and one in between.
    const counts = Array.from({ length: 40 }, (_, i) => [1, MAX_SAMPLES_PER_CONTRIBUTION, 250][i % 3]);
    const map = roundCoefficientMap(counts, kernel);
    expect(map.method).to.equal("exact");
    expect(map.batchRows).to.equal(undefined);
    const oracle = classCoefficientRows(counts, kernel.normalizer);
    oracle.forEach((value, p) => expect(Math.abs(map.rows[p] - value)).to.be.at.most(1e-12 * Math.abs(value)));
    // The auditor recomputes the map from the same public counts: the masks must be identical.
    expect(Buffer.from(roundCoefficientMap(counts, kernel).rows.buffer).equals(Buffer.from(map.rows.buffer))).to.equal(
      true,
    );
  });

  it("a contributor claiming an extreme sample count cannot blow up its cost: the t-rule stays small", () => {
    // The t-nodes grow with log(Σm / min m); policy bounds m to 1…100 000 and the map to 300 contributions.
    const worst = laplaceRule(1 / (MAX_EXACT_CLIENTS * MAX_SAMPLES_PER_CONTRIBUTION));
    expect(worst.nodes.length).to.be.below(150);
  });

  it("above the exact limit samples with the round's public seed, reproducibly, and reports its error", () => {
    // A limit of 4 stands in for 300 (sampling 301 contributions is minutes of plaintext work).
    const counts = [10, 20, 30, 40, 50, 60];
    const map = roundCoefficientMap(counts, kernel, 4);
    expect(map).to.include({ method: "sampled", permutations: ROUND_SAMPLING.permutations });
    const again = roundCoefficientMap(counts, kernel, 4);
    expect(Buffer.from(again.rows.buffer).equals(Buffer.from(map.rows.buffer))).to.equal(true);
    const valuation = roundValuation(map);
    expect(valuation.method).to.equal("sampled");
    const error = valuation.method === "sampled" ? valuation.maxRelativeError : Number.NaN;
    expect(error).to.be.above(0).and.below(0.5);
    expect(roundValuation(roundCoefficientMap(counts, kernel))).to.deep.equal({ method: "exact" });
    expect(roundCoefficientMap(new Array(5).fill(10), kernel, 4).method).to.equal("sampled");
    expect(MAX_EXACT_CLIENTS).to.equal(300);
  });
});
