import { expect } from "chai";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { roundCoefficientMap } from "@ciphershare/coprocessor/roles/computation";
import { validationKernel } from "@ciphershare/coprocessor/shapley/gram";
import { maxRelativeError, progressLogger, valueRound } from "../../../scripts/bench/round-valuation";
import { randomProblem } from "../../coprocessor/shapley/fixtures";

describe("bench:round's valuation under encryption", function () {
  this.timeout(900_000);

  it("progress lines: at each tenth of a phase, at its end, every 30 s in between, timed from the previous phase", () => {
    const lines: string[] = [];
    let clock = 0;
    const progress = progressLogger(
      (line) => lines.push(line),
      () => clock,
    );
    for (let done = 1; done <= 100; done++) {
      clock += 10;
      progress("terms", done, 100);
    }
    expect(lines).to.have.length(11);
    expect(lines[0]).to.match(/terms 1\/100 \(1 %\)/);
    expect(lines.at(-1)).to.match(/terms 100\/100 \(100 %\), 1 s$/);
    lines.length = 0;
    for (let done = 1; done <= 4; done++) {
      clock += 31_000;
      progress("slow", done, 1000);
    }
    expect(lines).to.have.length(4);
    expect(lines[1]).to.match(/slow 2\/1000 \(0 %\), 62 s, ~30938 s left/);
  });

  it("releases φ of the round's map within 1e-6 of the plaintext φ, and publishes Enc(φ)'s commitment", async () => {
    const problem = randomProblem({ n: 5, d: 6, c: 3, rows: 30, seed: 13 });
    const kernel = validationKernel(problem.x, problem.y, problem.base);
    const map = roundCoefficientMap(problem.sampleCounts, kernel);
    const input = { ...problem, kernel, map, workers: 2, log: () => {} };
    const plain = await valueRound({ ...input, encrypted: false });
    expect(plain.valuation).to.equal("plaintext");
    expect(plain.scoresHash).to.equal(plain.releaseHash);
    const encrypted = await valueRound({ ...input, encrypted: true, challengeSeed: `0x${"5e".repeat(32)}` });
    expect(encrypted.valuation).to.equal("encrypted");
    expect(encrypted.inconsistentProjections).to.deep.equal([]);
    expect(encrypted.consistencyChecks).to.equal(1);
    expect(encrypted.valuationMaxRelErrorUnflooded).to.be.below(1e-6);
    expect(encrypted.valuationMaxRelError).to.equal(maxRelativeError(encrypted.phi, plain.phi));
    expect(encrypted.valuationMaxRelError).to.be.below(1e-6);
    expect(encrypted.scoresHash).to.not.equal(encrypted.releaseHash);
    expect(Object.keys(encrypted.valuationBreakdown!)).to.include.members([
      "keygen",
      "encrypt",
      "setup",
      "check",
      "terms",
    ]);
  });

  it("a round of 8 contributors valued under encryption settles by the released φ and loses nothing", async () => {
    const { stdout } = await promisify(execFile)(
      "npx",
      ["tsx", "scripts/bench/round.ts", "--json", "--contributors", "8", "--encrypted-valuation"],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    // 8·9/2 + 8 = 44 Gram entries, two per packed term.
    expect(stdout).to.match(/#\s+terms 22\/22 \(100 %\)/);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(result.contributors).to.equal(8);
    expect(result.valuation).to.equal("encrypted");
    expect(result.valuationMethod).to.equal("exact");
    expect(result.lost).to.equal(0);
    expect(result.claimed).to.equal(result.pool);
    expect(result.settleTransactions).to.equal(1);
    expect(result.inconsistentProjections).to.deep.equal([]);
    expect(result.valuationMaxRelErrorUnflooded).to.be.below(1e-6);
    expect(result.valuationMaxRelError).to.be.below(1e-6);
  });
});
