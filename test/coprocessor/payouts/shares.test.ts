import { expect } from "chai";
import fc from "fast-check";
import { largestRemainderShares } from "@ciphershare/coprocessor/payouts/shares";
import { cappedUsage, usageScores } from "@ciphershare/coprocessor/payouts/usage";
import { InvalidInputError } from "@ciphershare/protocol/errors";

describe("shapley: shares and royalty rules", () => {
  it("shares sum exactly to the pool, pay nothing to scores ≤ 0 and flag them", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 30 }),
        (pool, scores) => {
          const { shares, flagged, undistributed } = largestRemainderShares(pool, scores);
          expect(shares.reduce((a, b) => a + b, 0n) + undistributed).to.equal(pool);
          scores.forEach((score, i) => {
            expect(shares[i] >= 0n).to.equal(true);
            if (score <= 0) {
              expect(shares[i]).to.equal(0n);
              expect(flagged).to.include(i);
            } else expect(flagged).to.not.include(i);
          });
          if (scores.some((s) => s > 0)) expect(undistributed).to.equal(0n);
        },
      ),
    );
  });

  it("shares are proportional to the positive scores up to one unit", () => {
    const { shares, flagged } = largestRemainderShares(1000n, [3, 1, -2, 0, 1]);
    expect(shares).to.deep.equal([600n, 200n, 0n, 0n, 200n]);
    expect(flagged).to.deep.equal([2, 3]);
    // 10 / 3 each: the leftover unit goes to the lowest index among equal remainders.
    expect(largestRemainderShares(10n, [1, 1, 1]).shares).to.deep.equal([4n, 3n, 3n]);
  });

  it("rejects a negative pool and non-finite scores", () => {
    expect(() => largestRemainderShares(-1n, [1])).to.throw(InvalidInputError, /pool/);
    expect(() => largestRemainderShares(1n, [Number.NaN])).to.throw(InvalidInputError, /finite/);
  });

  it("usage scores weight capped counts by the public rules", () => {
    const rules = {
      usageTypes: [
        { name: "inference", weight: 1, cap: 100 },
        { name: "style-generation", weight: 5, cap: 10 },
      ],
    };
    expect(Array.from(cappedUsage(rules, [250, 3]))).to.deep.equal([100, 3]);
    expect(
      usageScores(rules, [
        [
          [250, 3],
          [10, 20],
        ],
        [],
      ]),
    ).to.deep.equal([100 + 15 + 10 + 50, 0]);
    expect(() => cappedUsage(rules, [1])).to.throw(InvalidInputError, /one count per usage type/);
    expect(() => cappedUsage(rules, [-1, 0])).to.throw(InvalidInputError, /non-negative/);
    expect(() => cappedUsage({ usageTypes: [rules.usageTypes[0], rules.usageTypes[0]] }, [1, 1])).to.throw(/unique/);
  });
});
