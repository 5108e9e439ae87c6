import { expect } from "chai";
import { roundCoefficientMap } from "@ciphershare/coprocessor/roles/computation";
import { MAX_SAMPLES_PER_CONTRIBUTION } from "@ciphershare/coprocessor/roles/coprocessor";
import { MAX_EXACT_CLIENTS } from "@ciphershare/coprocessor/shapley/coefficients";
import { validationKernel } from "@ciphershare/coprocessor/shapley/gram";
import { laplaceRule } from "@ciphershare/coprocessor/shapley/quadrature";
import { InvalidInputError } from "@ciphershare/protocol/errors";
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

  it("refuses more contributions than the exact map supports, naming the limit", () => {
    expect(() => roundCoefficientMap(new Array(MAX_EXACT_CLIENTS + 1).fill(10), kernel)).to.throw(
      InvalidInputError,
      new RegExp(`at most ${MAX_EXACT_CLIENTS}`),
    );
  });
});
