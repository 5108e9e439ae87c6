import { expect } from "chai";
import fc from "fast-check";
import {
  addPointwise,
  crtLift,
  invMod,
  mod,
  mulPointwise,
  mulScalarPerPrime,
  powMod,
  residuesInRange,
  signedToResidues,
  uniformResidues,
} from "@ciphershare/coprocessor/threshold/modular";
import { ThresholdError } from "@ciphershare/coprocessor/threshold/errors";

/** fast-v1's and deep-v2's primes: 40- and 60-bit NTT primes as SEAL picks them. */
const PRIMES = [1099510890497n, 1099511480321n, 1152921504606748673n, 1152921504606830593n];
const DEGREE = 8;

const residues = (primes: readonly bigint[]) =>
  fc
    .tuple(
      ...primes.map((q) => fc.array(fc.bigInt({ min: 0n, max: q - 1n }), { minLength: DEGREE, maxLength: DEGREE })),
    )
    .map((blocks) => BigUint64Array.from(blocks.flat()));

describe("threshold: modular arithmetic per RNS prime", () => {
  it("pointwise products, scalar products and sums match BigInt references", () => {
    fc.assert(
      fc.property(
        residues(PRIMES),
        residues(PRIMES),
        fc.array(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), { minLength: 4, maxLength: 4 }),
        (a, b, scalars) => {
          const product = mulPointwise(a, b, PRIMES, DEGREE);
          const scaled = mulScalarPerPrime(a, scalars, PRIMES, DEGREE);
          const sum = addPointwise(a, b, PRIMES, DEGREE);
          PRIMES.forEach((q, j) => {
            for (let c = j * DEGREE; c < (j + 1) * DEGREE; c++) {
              expect(product[c]).to.equal((a[c] * b[c]) % q);
              expect(scaled[c]).to.equal(mod(a[c] * scalars[j], q));
              expect(sum[c]).to.equal((a[c] + b[c]) % q);
            }
          });
          expect(residuesInRange(product, PRIMES, DEGREE)).to.equal(true);
          // In place (out aliases an input) gives the same result.
          const copy = BigUint64Array.from(a);
          mulPointwise(copy, b, PRIMES, DEGREE, copy);
          expect(copy).to.deep.equal(product);
        },
      ),
      { numRuns: 200, seed: 1 },
    );
  });

  it("inverses and powers modulo a prime agree with Fermat", () => {
    fc.assert(
      fc.property(fc.constantFrom(...PRIMES), fc.bigInt({ min: 1n, max: 2n ** 64n }), (q, a) => {
        fc.pre(a % q !== 0n);
        expect((mod(a, q) * invMod(a, q)) % q).to.equal(1n);
        expect(invMod(a, q)).to.equal(powMod(a, q - 2n, q));
        expect(invMod(-a, q)).to.equal(mod(-invMod(a, q), q));
      }),
      { numRuns: 300, seed: 2 },
    );
    expect(() => invMod(PRIMES[0] * 3n, PRIMES[0])).to.throw(ThresholdError, /No modular inverse/);
  });

  it("signed integers go to residues and CRT lifts them back (|x| < Q/2)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }), { minLength: DEGREE, maxLength: DEGREE }),
        (values) => {
          const primes = PRIMES.slice(2); // Q ≈ 2^120
          const r = signedToResidues(values, primes);
          expect(residuesInRange(r, primes, DEGREE)).to.equal(true);
          expect(crtLift(r, primes, DEGREE)).to.deep.equal(values);
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it("rejects arrays whose length is not primes × N", () => {
    expect(() => mulPointwise(new BigUint64Array(3), new BigUint64Array(3), PRIMES, DEGREE)).to.throw(
      ThresholdError,
      /primes × N/,
    );
    expect(() => mulScalarPerPrime(new BigUint64Array(32), [1n], PRIMES, DEGREE)).to.throw(
      ThresholdError,
      /scalar per prime/,
    );
    expect(residuesInRange(new BigUint64Array(31), PRIMES, DEGREE)).to.equal(false);
  });

  it("draws uniform residues below q without modulo bias (seeded source, χ² over 16 bins)", () => {
    let state = 12345n;
    const seeded = (bytes: Uint8Array) => {
      for (let i = 0; i < bytes.length; i++) {
        state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
        bytes[i] = Number(state >> 56n);
      }
    };
    // A modulus just above 2^63 rejects almost half the words: the rejection path runs for real.
    const q = 2n ** 63n + 25n;
    const samples = uniformResidues(20_000, q, seeded);
    const bins = new Array<number>(16).fill(0);
    for (const x of samples) {
      expect(x < q).to.equal(true);
      bins[Number((x * 16n) / q)]++;
    }
    const expected = samples.length / 16;
    const chi2 = bins.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    expect(chi2).to.be.below(37.7); // χ²(15) at p = 0.001
  });
});
