import { randomBytes } from "node:crypto";

/**
 * Draws from the operating system's CSPRNG (`node:crypto`), for secrets such as masks: never seeded, never
 * reproducible. Buffers 4 KB of randomness at a time.
 */
export class SecureRandom {
  #buffer = Buffer.alloc(0);
  #offset = 0;
  #spareNormal: number | undefined;

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    if (this.#offset + 8 > this.#buffer.length) {
      this.#buffer = randomBytes(4096);
      this.#offset = 0;
    }
    const high = this.#buffer.readUInt32BE(this.#offset) >>> 5;
    const low = this.#buffer.readUInt32BE(this.#offset + 4) >>> 6;
    this.#offset += 8;
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
