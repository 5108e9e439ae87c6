import { expect } from "chai";
import fc from "fast-check";
import { lagrangeCoefficients, normalizeDecryptingSet, shareResidues } from "@ciphershare/coprocessor/threshold/shamir";
import { MalformedShareError, ThresholdError } from "@ciphershare/coprocessor/threshold/errors";

const PRIMES = [1099510890497n, 1152921504606830593n];
const DEGREE = 4;

/** Σ_{i∈S} λ_i·share_i per residue: what t partial decryptions add up to. */
function reconstruct(shares: BigUint64Array[], set: number[]): BigUint64Array {
  const out = new BigUint64Array(PRIMES.length * DEGREE);
  PRIMES.forEach((q, j) => {
    for (const member of set) {
      const lambda = lagrangeCoefficients(member, set, PRIMES)[j];
      for (let c = j * DEGREE; c < (j + 1) * DEGREE; c++) out[c] = (out[c] + lambda * shares[member - 1][c]) % q;
    }
  });
  return out;
}

const secrets = fc
  .tuple(...PRIMES.map((q) => fc.array(fc.bigInt({ min: 0n, max: q - 1n }), { minLength: DEGREE, maxLength: DEGREE })))
  .map((blocks) => BigUint64Array.from(blocks.flat()));

/** A committee shape and a decrypting set of at least t members, in random order. */
const shapesWithSets = fc
  .integer({ min: 1, max: 7 })
  .chain((members) => fc.record({ members: fc.constant(members), threshold: fc.integer({ min: 1, max: members }) }))
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      set: fc.shuffledSubarray(
        Array.from({ length: shape.members }, (_, i) => i + 1),
        { minLength: shape.threshold },
      ),
    }),
  );

describe("threshold: Shamir sharing per RNS prime", () => {
  it("any t of the n shares reconstruct the secret; so does any larger set", () => {
    fc.assert(
      fc.property(secrets, shapesWithSets, (secret, { shape, set }) => {
        const shares = shareResidues(secret, PRIMES, DEGREE, shape);
        expect(reconstruct(shares, set)).to.deep.equal(secret);
        if (shape.threshold > 1) {
          // One share short of the threshold reconstructs something else (with overwhelming probability).
          expect(reconstruct(shares, set.slice(0, shape.threshold - 1))).to.not.deep.equal(secret);
        }
      }),
      { numRuns: 100, seed: 11 },
    );
  });

  it("t − 1 shares are uniform whatever the secret (χ² of one residue over many sharings)", () => {
    // Two very different secrets, 2-of-3: member 1's share alone must look the same for both.
    const q = 1009n;
    const bins = (secret: bigint) => {
      const counts = new Array<number>(8).fill(0);
      for (let trial = 0; trial < 4000; trial++) {
        const [share] = shareResidues(BigUint64Array.of(secret), [q], 1, { threshold: 2, members: 3 });
        counts[Number((share[0] * 8n) / q)]++;
      }
      return counts;
    };
    for (const secret of [0n, 500n]) {
      const counts = bins(secret);
      const chi2 = counts.reduce((sum, count) => sum + (count - 500) ** 2 / 500, 0);
      expect(chi2).to.be.below(24.3); // χ²(7) at p = 0.001
    }
  });

  it("Lagrange coefficients at 0 sum to 1 over the set and refuse outsiders", () => {
    const set = [1, 3, 4];
    PRIMES.forEach((q, j) => {
      const sum = set.reduce((acc, member) => acc + lagrangeCoefficients(member, set, PRIMES)[j], 0n) % q;
      expect(sum).to.equal(1n);
    });
    expect(() => lagrangeCoefficients(2, set, PRIMES)).to.throw(MalformedShareError, /not in the decrypting set/);
  });

  it("validates committee shapes and decrypting sets", () => {
    expect(normalizeDecryptingSet([3, 1], { threshold: 2, members: 3 })).to.deep.equal([1, 3]);
    expect(() => normalizeDecryptingSet([1], { threshold: 2, members: 3 })).to.throw(MalformedShareError, /fewer/);
    expect(() => normalizeDecryptingSet([1, 1], { threshold: 2, members: 3 })).to.throw(
      MalformedShareError,
      /distinct/,
    );
    expect(() => normalizeDecryptingSet([1, 4], { threshold: 2, members: 3 })).to.throw(MalformedShareError, /1…n/);
    expect(() => normalizeDecryptingSet([0, 1], { threshold: 2, members: 3 })).to.throw(MalformedShareError);
    for (const shape of [
      { threshold: 0, members: 3 },
      { threshold: 4, members: 3 },
      { threshold: 1, members: 256 },
      { threshold: 1.5, members: 3 },
    ]) {
      expect(() => shareResidues(new BigUint64Array(DEGREE * 2), PRIMES, DEGREE, shape)).to.throw(
        ThresholdError,
        /1 ≤ t ≤ n/,
      );
    }
    expect(() => shareResidues(new BigUint64Array(3), PRIMES, DEGREE, { threshold: 1, members: 1 })).to.throw(
      ThresholdError,
      /primes × N/,
    );
  });
});
