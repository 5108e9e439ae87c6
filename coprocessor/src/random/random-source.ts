/**
 * What every random source here derives from 32-bit words: uniform floats with 53 random bits and standard
 * normals. Seeded (reproducible) and secure (CSPRNG) sources differ only in where the words come from.
 */
export abstract class RandomSource {
  #spareNormal: number | undefined;

  /** A uniform 32-bit unsigned word. */
  abstract nextUint32(): number;

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67_108_864 + low) / 9_007_199_254_740_992;
  }

  /** Standard normal (Box–Muller, caching the second value). */
  nextNormal(): number {
    if (this.#spareNormal !== undefined) {
      const spare = this.#spareNormal;
      this.#spareNormal = undefined;
      return spare;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.#spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }
}
