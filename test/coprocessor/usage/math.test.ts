import { expect } from "chai";
import fc from "fast-check";
import { exclusionCounts, plaintextUsageTotals, screenAttributions } from "@ciphershare/coprocessor/usage/attribution";
import { foldSteps, packGenerations, usageLayout } from "@ciphershare/coprocessor/usage/layout";
import { usageValueExponent } from "@ciphershare/coprocessor/usage/aggregate";
import { usageRoyaltyScores, usageRoyaltyShares } from "@ciphershare/coprocessor/usage/royalties";
import { InvalidInputError } from "@ciphershare/protocol/errors";

describe("usage: attributions, layout and royalties (plaintext)", () => {
  const rules = { contributors: 3, generationCap: 1 };

  it("excludes negative, non-finite, wrong-length and over-cap vectors, each with its reason", () => {
    const screened = screenAttributions(
      [
        [0.2, 0.3, 0.5],
        [0.1, -0.1, 0],
        [NaN, 0, 0],
        [0.5, 0.5],
        [0.6, 0.6, 0],
        [0, 0, 0],
        [Infinity, 0, 0],
      ],
      rules,
    );
    expect(screened.includedGenerations).to.deep.equal([0, 5]);
    expect(screened.excluded.map((e) => [e.generation, e.reason])).to.deep.equal([
      [1, "negative"],
      [2, "not-finite"],
      [3, "wrong-length"],
      [4, "over-cap"],
      [6, "not-finite"],
    ]);
    expect(screened.excluded[0].details).to.equal("contributor 1: -0.1");
    expect(screened.excluded[3].details).to.match(/Σ = 1\.2 > cap 1/);
    expect(exclusionCounts(screened.excluded)).to.deep.equal({
      "wrong-length": 1,
      "not-finite": 2,
      negative: 1,
      "over-cap": 1,
    });
  });

  it("refuses rules without contributors or with a non-positive cap", () => {
    expect(() => screenAttributions([], { contributors: 0, generationCap: 1 })).to.throw(
      InvalidInputError,
      /contributors/,
    );
    expect(() => screenAttributions([], { contributors: 2, generationCap: 0 })).to.throw(InvalidInputError, /cap/);
  });

  it("packs whole generations per ciphertext in power-of-two blocks and folds them with power-of-two rotations", () => {
    const six = usageLayout(6, 8192);
    expect([six.stride, six.generationsPerCiphertext]).to.deep.equal([8, 1024]);
    expect(foldSteps(six)).to.deep.equal([8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);
    const hundred = usageLayout(100, 8192);
    expect([hundred.stride, hundred.generationsPerCiphertext]).to.deep.equal([128, 64]);
    const packed = packGenerations(usageLayout(3, 16), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(Array.from(packed)).to.deep.equal([1, 2, 3, 0, 4, 5, 6, 0]);
    // Folding the packed slots as the ciphertext does gives the plaintext totals in slots 0..n−1.
    const slots = new Float64Array(16);
    slots.set(packed);
    let folded = slots;
    for (const step of foldSteps(usageLayout(3, 16))) {
      folded = folded.map((v, j) => v + folded[(j + step) % 16]);
    }
    expect(Array.from(folded.subarray(0, 3))).to.deep.equal([5, 7, 9]);
    expect(
      Array.from(
        plaintextUsageTotals(
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
          3,
        ),
      ),
    ).to.deep.equal([5, 7, 9]);
  });

  it("sizes the output's value exponent so every total / 2^e is at most ½", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        (g, cap) => {
          const e = usageValueExponent(g, cap);
          expect((g * cap) / 2 ** e).to.be.at.most(0.5);
        },
      ),
    );
  });

  const totalsArb = fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 40 });

  it("property: shares sum to the pool whenever someone was used; a zero-usage artist gets 0 under pure usage", () => {
    fc.assert(
      fc.property(totalsArb, fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.nat({ max: 39 }), (totals, pool, zeroAt) => {
        const withZero = [...totals];
        withZero[zeroAt % withZero.length] = 0;
        const { shares, undistributed } = usageRoyaltyShares(pool, withZero, { usageWeight: 1, resolution: 1e-9 });
        expect(shares[zeroAt % withZero.length]).to.equal(0n);
        const sum = shares.reduce((a, b) => a + b, 0n);
        if (withZero.some((v) => v > 1e-9)) expect(sum).to.equal(pool);
        else expect(undistributed).to.equal(pool);
      }),
    );
  });

  it("property: a 70/30 mix pays the whole pool and each part in proportion", () => {
    fc.assert(
      fc.property(
        totalsArb.filter((t) => t.some((v) => v > 1)),
        fc.bigInt({ min: 1n, max: 10n ** 24n }),
        (totals, pool) => {
          const phi = totals.map((_, i) => (i % 3 === 0 ? -0.01 : 0.001 * (i + 1)));
          const scores = usageRoyaltyScores(totals, { usageWeight: 0.7, resolution: 0 }, phi);
          expect(scores.reduce((a, b) => a + b, 0)).to.be.closeTo(phi.some((v) => v > 0) ? 1 : 0.7, 1e-9);
          const { shares } = usageRoyaltyShares(pool, totals, { usageWeight: 0.7, resolution: 0 }, phi);
          expect(shares.reduce((a, b) => a + b, 0n)).to.equal(pool);
        },
      ),
    );
  });

  it("treats released totals at or below the resolution as no usage (flooding noise is not usage)", () => {
    const { shares, flagged } = usageRoyaltyShares(1000n, [10, 3e-9, -2e-9, 30], { usageWeight: 1, resolution: 1e-6 });
    expect(shares).to.deep.equal([250n, 0n, 0n, 750n]);
    expect(flagged).to.deep.equal([1, 2]);
  });

  it("refuses a mix without one Shapley score per contributor, or a weight outside [0, 1]", () => {
    expect(() => usageRoyaltyScores([1, 2], { usageWeight: 0.7, resolution: 0 })).to.throw(
      InvalidInputError,
      /Shapley/,
    );
    expect(() => usageRoyaltyScores([1, 2], { usageWeight: 1.5, resolution: 0 })).to.throw(
      InvalidInputError,
      /\[0, 1\]/,
    );
    expect(() => usageRoyaltyScores([1, NaN], { usageWeight: 1, resolution: 0 })).to.throw(InvalidInputError, /finite/);
  });
});
