import { expect } from "chai";
import fc from "fast-check";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { fedAvgPlain, fedAvgWeights } from "@ciphershare/coprocessor/fedavg/weights";

describe("FedAvg weight math", () => {
  it("weights clients by sample count and sums to 1 (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 50 }), (counts) => {
        fc.pre(counts.some((c) => c > 0));
        const weights = fedAvgWeights(counts);
        const total = counts.reduce((a, b) => a + b, 0);
        expect(weights.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-12);
        counts.forEach((count, i) => expect(weights[i]).to.equal(count / total));
      }),
    );
  });

  it("matches Flower's aggregate(): Σ m_i·x_i / Σ m_i, and a lone client is returned unchanged", () => {
    const updates = [Float64Array.of(1, 2), Float64Array.of(3, 6), Float64Array.of(100, 100)];
    expect(Array.from(fedAvgPlain(updates, [1, 3, 0]))).to.deep.equal([2.5, 5]);
    fc.assert(
      fc.property(fc.float64Array({ minLength: 1, maxLength: 20, noNaN: true, noDefaultInfinity: true }), (x) => {
        const y = Float64Array.from(x, (v) => (Math.abs(v) > 1e300 ? 0 : v));
        const average = fedAvgPlain([y], [7]);
        y.forEach((v, i) => expect(Math.abs(average[i] - v)).to.be.at.most(Math.abs(v) * 4e-16));
      }),
    );
  });

  it("is a convex combination: each coordinate lies between the clients' min and max (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.integer({ min: 1, max: 1000 })), {
          minLength: 1,
          maxLength: 20,
        }),
        (clients) => {
          const [avg] = fedAvgPlain(
            clients.map(([x]) => Float64Array.of(x)),
            clients.map(([, m]) => m),
          );
          const xs = clients.map(([x]) => x);
          expect(avg).to.be.at.least(Math.min(...xs) - 1e-9);
          expect(avg).to.be.at.most(Math.max(...xs) + 1e-9);
        },
      ),
    );
  });

  it("rejects no clients, negative or fractional counts, zero totals and ragged updates", () => {
    expect(() => fedAvgWeights([])).to.throw(InvalidInputError, /at least one client/);
    expect(() => fedAvgWeights([1, -1])).to.throw(InvalidInputError, /client 1: -1/);
    expect(() => fedAvgWeights([1.5])).to.throw(InvalidInputError, /non-negative integers/);
    expect(() => fedAvgWeights([0, 0])).to.throw(InvalidInputError, /positive/);
    expect(() => fedAvgPlain([Float64Array.of(1), Float64Array.of(1, 2)], [1, 1])).to.throw(
      InvalidInputError,
      /update 1/,
    );
    expect(() => fedAvgPlain([Float64Array.of(1)], [1, 1])).to.throw(InvalidInputError, /One sample count/);
  });
});
