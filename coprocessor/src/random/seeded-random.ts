import { InvalidInputError } from "@ciphershare/protocol/errors";
import { RandomSource } from "./random-source";

/**
 * A seed for one purpose derived from a base seed and labels (round, client…), so that independent
 * processes agree on every random choice without talking: `deriveSeed(seed, round, client)`.
 */
export function deriveSeed(seed: number, ...labels: number[]): number {
  let hash = 0x811c9dc5;
  for (const part of [seed, ...labels]) {
    if (!Number.isSafeInteger(part)) {
      throw new InvalidInputError("Seeds and labels must be safe integers.", { details: `got ${part}` });
    }
    for (const word of [part >>> 0, Math.floor(part / 2 ** 32) >>> 0]) {
      hash = Math.imul(hash ^ word, 0x01000193) >>> 0;
      hash = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d) >>> 0;
    }
  }
  return hash;
}

/**
 * Seeded pseudo-random numbers for reproducible experiments (sfc32: small, fast, passes PractRand to
 * large sizes). Every ML module takes one of these instead of Math.random, so a seed fixes a run.
 */
export class SeededRandom extends RandomSource {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    super();
    if (!Number.isSafeInteger(seed)) {
      throw new InvalidInputError("A seed must be a safe integer.", { details: `seed: ${seed}` });
    }
    // splitmix32 expands the seed into the four state words, so nearby seeds give unrelated streams.
    let state = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
    const next = () => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** Uniform integer in [0, bound). */
  nextInt(bound: number): number {
    if (!Number.isSafeInteger(bound) || bound <= 0) {
      throw new InvalidInputError("The bound must be a positive integer.", { details: `bound: ${bound}` });
    }
    return Math.floor(this.nextFloat() * bound);
  }

  /** Gamma(shape, 1) by Marsaglia–Tsang, boosted for shape < 1. */
  nextGamma(shape: number): number {
    if (!(shape > 0)) throw new InvalidInputError("A gamma shape must be positive.", { details: `shape: ${shape}` });
    if (shape < 1) return this.nextGamma(shape + 1) * Math.pow(this.nextFloat() || Number.MIN_VALUE, 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.nextNormal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.nextFloat();
      if (u < 1 - 0.0331 * x ** 4) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** A probability vector drawn from Dirichlet(alpha, …, alpha) of the given length. */
  nextDirichlet(length: number, alpha: number): number[] {
    const draws = Array.from({ length }, () => this.nextGamma(alpha));
    const total = draws.reduce((sum, x) => sum + x, 0);
    return draws.map((x) => x / total);
  }

  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
