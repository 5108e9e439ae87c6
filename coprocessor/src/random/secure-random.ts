import { randomBytes } from "node:crypto";
import { RandomSource } from "./random-source";

/**
 * Draws from the operating system's CSPRNG (`node:crypto`), for secrets such as masks: never seeded, never
 * reproducible. Buffers 4 KB of randomness at a time.
 */
export class SecureRandom extends RandomSource {
  #buffer = Buffer.alloc(0);
  #offset = 0;

  nextUint32(): number {
    if (this.#offset + 4 > this.#buffer.length) {
      this.#buffer = randomBytes(4096);
      this.#offset = 0;
    }
    const word = this.#buffer.readUInt32BE(this.#offset);
    this.#offset += 4;
    return word;
  }
}
