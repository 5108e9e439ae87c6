import { expect } from "chai";
import fc from "fast-check";
import { gaussLegendre, laplaceRule } from "@ciphershare/coprocessor/shapley/quadrature";
import { InvalidInputError } from "@ciphershare/protocol/errors";

describe("shapley: quadrature rules", () => {
  it("Gauss–Legendre on [0, 1] integrates y^r (1 − y)^(2q−1−r) exactly, with accurate complements", () => {
    for (const q of [1, 2, 3, 7, 10, 25, 50, 150]) {
      const { nodes, complements, weights } = gaussLegendre(q);
      const degree = 2 * q - 1;
      expect(weights.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-15);
      for (let i = 0; i < q; i++) {
        expect(nodes[i] + complements[i]).to.be.closeTo(1, 3e-16);
        if (i > 0) expect(nodes[i]).to.be.above(nodes[i - 1]);
      }
      for (const r of new Set([0, 1, q - 1, q, degree])) {
        // B(r + 1, degree − r + 1) = 1 / ((degree + 1)·C(degree, r)), as a product of ratios.
        let binomial = 1;
        for (let i = 1; i <= r; i++) binomial = (binomial * (degree - r + i)) / i;
        const exact = 1 / ((degree + 1) * binomial);
        let sum = 0;
        for (let i = 0; i < q; i++) sum += weights[i] * nodes[i] ** r * complements[i] ** (degree - r);
        // Rounding of a node is amplified by the degree: ~ degree · 1e-16.
        expect(Math.abs(sum / exact - 1), `q = ${q}, r = ${r}`).to.be.below(2e-16 * (degree + 5));
      }
    }
  });

  it("the Laplace rule gives 1/M and 1/M² to 5e-15 relative for every M in [minRate, 1]", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -30, max: 0, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (logMin, f) => {
          const minRate = Math.exp(logMin);
          const rate = Math.exp(logMin * f);
          const { nodes, weights1, weights2 } = laplaceRule(minRate);
          let first = 0;
          let second = 0;
          for (let a = 0; a < nodes.length; a++) {
            const decay = Math.exp(-nodes[a] * rate);
            first += weights1[a] * decay;
            second += weights2[a] * decay;
          }
          expect(Math.abs(first * rate - 1)).to.be.below(5e-15);
          expect(Math.abs(second * rate * rate - 1)).to.be.below(5e-15);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects a rule it cannot build", () => {
    expect(() => gaussLegendre(0)).to.throw(InvalidInputError, /positive whole number/);
    expect(() => laplaceRule(0)).to.throw(InvalidInputError, /\(0, 1\]/);
    expect(() => laplaceRule(2)).to.throw(InvalidInputError, /\(0, 1\]/);
  });
});
