import { expect } from "chai";
import fc from "fast-check";

import { InvalidInputError } from "@ciphershare/protocol/errors";
import { SeededRandom, deriveSeed } from "@ciphershare/coprocessor/random/seeded-random";

describe("ml/random", () => {
  it("repeats the same stream for the same seed and differs across seeds", () => {
    const draw = (seed: number) => Array.from({ length: 8 }, () => new SeededRandom(seed).nextUint32());
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const streamA = Array.from({ length: 100 }, () => a.nextFloat());
    expect(Array.from({ length: 100 }, () => b.nextFloat())).to.deep.equal(streamA);
    expect(draw(1)[0]).to.not.equal(draw(2)[0]);
  });

  it("draws floats in [0, 1) with a mean near 1/2, and integers below the bound", () => {
    const random = new SeededRandom(7);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = random.nextFloat();
      expect(x).to.be.at.least(0).and.below(1);
      sum += x;
    }
    expect(sum / 20_000).to.be.closeTo(0.5, 0.01);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer(), (bound, seed) => {
        const value = new SeededRandom(seed).nextInt(bound);
        return Number.isInteger(value) && value >= 0 && value < bound;
      }),
    );
  });

  it("draws Dirichlet vectors on the simplex, concentrated for small alpha", () => {
    const random = new SeededRandom(3);
    const maxShare = (alpha: number) => {
      let total = 0;
      for (let i = 0; i < 200; i++) {
        const p = random.nextDirichlet(10, alpha);
        expect(p.reduce((s, x) => s + x, 0)).to.be.closeTo(1, 1e-12);
        expect(p.every((x) => x >= 0)).to.equal(true);
        total += Math.max(...p);
      }
      return total / 200;
    };
    expect(maxShare(0.1)).to.be.greaterThan(0.6);
    expect(maxShare(100)).to.be.lessThan(0.2);
  });

  it("shuffles into a permutation", () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer(), (items, seed) => {
        const shuffled = new SeededRandom(seed).shuffle([...items]);
        return JSON.stringify([...shuffled].sort()) === JSON.stringify([...items].sort());
      }),
    );
  });

  it("derives distinct, stable seeds per (seed, round, client)", () => {
    const seeds = new Set<number>();
    for (let round = 0; round < 10; round++)
      for (let client = 0; client < 10; client++) seeds.add(deriveSeed(7, round, client));
    expect(seeds.size).to.equal(100);
    expect(deriveSeed(7, 1, 2)).to.equal(deriveSeed(7, 1, 2));
    expect(deriveSeed(7, 1, 2)).to.not.equal(deriveSeed(7, 2, 1));
    expect(() => new SeededRandom(0.5)).to.throw(InvalidInputError, /safe integer/);
  });
});
