import { RandomSource } from "./random-source";

/**
 * Draws from the operating system's CSPRNG (WebCrypto's `getRandomValues`, in Node and in a browser alike), for
 * secrets such as masks and DP noise: never seeded, never reproducible. Buffers 4 KB of randomness at a time.
 */
export class SecureRandom extends RandomSource {
  #buffer = new Uint32Array(0);
  #offset = 0;

  nextUint32(): number {
    if (this.#offset >= this.#buffer.length) {
      this.#buffer = globalThis.crypto.getRandomValues(new Uint32Array(1024));
      this.#offset = 0;
    }
    return this.#buffer[this.#offset++]!;
  }
}
