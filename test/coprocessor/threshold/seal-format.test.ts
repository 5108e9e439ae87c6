import { expect } from "chai";
import fc from "fast-check";
import type { Ciphertext } from "@ciphershare/protocol/ckks/seal";
import {
  ciphertextPolynomial,
  parseCiphertext,
  parsePlaintext,
  rawCiphertextByteLength,
  rawPlaintextByteLength,
  sameParmsId,
  serializeCiphertext,
  serializePlaintext,
} from "@ciphershare/coprocessor/threshold/seal-format";
import { modulusChain } from "@ciphershare/coprocessor/threshold/modulus-chain";
import { SealFormatError } from "@ciphershare/coprocessor/threshold/errors";
import { keyedContext, sampleUpdate } from "../../support/ckks";
import { withByte, withF64, withU64 } from "./bytes";

/** SEAL's own uncompressed bytes of an object. */
const saved = (object: { saveToArray(mode: never): unknown }, none: unknown) =>
  new Uint8Array(object.saveToArray(none as never) as ArrayLike<number>);

describe("threshold: SEAL 4.1 raw format", function () {
  this.timeout(120_000);

  it("parses and re-serializes SEAL's secret keys, plaintexts and ciphertexts byte for byte", async () => {
    for (const set of ["fast-v1", "deep-v2"]) {
      const { ctx, keys, bundle, secret } = await keyedContext(set);
      const none = ctx.seal.ComprModeType.none;
      const chain = modulusChain(ctx);
      const n = ctx.parameterSet.polyModulusDegree;

      const key = parsePlaintext(keys.secretKey);
      expect(key.coeffCount).to.equal(chain.key.primes.length * n);
      expect(key.scale).to.equal(1);
      expect(sameParmsId(key.parmsId, chain.key.parmsId)).to.equal(true);
      expect(serializePlaintext(key)).to.deep.equal(keys.secretKey);
      expect(keys.secretKey.length).to.equal(rawPlaintextByteLength(key.coeffCount));

      const plaintext = ctx.encode(sampleUpdate(100, 1));
      const plaintextBytes = saved(plaintext, none);
      plaintext.delete();
      expect(serializePlaintext(parsePlaintext(plaintextBytes))).to.deep.equal(plaintextBytes);

      // Fresh, rescaled and unrelinearized (3 polynomials) ciphertexts.
      const fresh = ctx.encrypt(sampleUpdate(ctx.slotCount, 2), bundle.encryptor);
      const product = new ctx.seal.Ciphertext();
      ctx.evaluator.multiply(fresh, fresh, product);
      const rescaled = new ctx.seal.Ciphertext();
      ctx.evaluator.relinearize(product, bundle.relinKeys, rescaled);
      ctx.evaluator.rescaleToNextInplace(rescaled);
      for (const ciphertext of [fresh, product, rescaled] as Ciphertext[]) {
        const bytes = ctx.saveCiphertext(ciphertext);
        const raw = parseCiphertext(bytes);
        expect(raw.size).to.equal(ciphertext.size());
        expect(raw.coeffModulusSize).to.equal(ciphertext.coeffModulusSize());
        expect(raw.scale).to.equal(ciphertext.scale());
        expect(raw.isNttForm).to.equal(true);
        expect(bytes.length).to.equal(rawCiphertextByteLength(raw.size, raw.coeffModulusSize, n));
        const again = serializeCiphertext(raw);
        expect(again).to.deep.equal(bytes);
        // SEAL loads what we write and decrypts it to the same values.
        const loaded = ctx.loadCiphertext(again, { size: raw.size });
        if (raw.size === 2) {
          expect(ctx.decrypt(loaded, secret.decryptor)).to.deep.equal(ctx.decrypt(ciphertext, secret.decryptor));
        }
        loaded.delete();
      }
      fresh.delete();
      product.delete();
      rescaled.delete();
    }
  });

  it("lays polynomial p, prime j, coefficient c at (p·k + j)·N + c", async () => {
    const { ctx, bundle } = await keyedContext("fast-v1");
    const ciphertext = ctx.encrypt(sampleUpdate(10, 3), bundle.encryptor);
    const raw = parseCiphertext(ctx.saveCiphertext(ciphertext));
    ciphertext.delete();
    const { primes } = modulusChain(ctx).levels[0];
    const n = raw.polyModulusDegree;
    const c1 = ciphertextPolynomial(raw, 1);
    expect(c1.length).to.equal(primes.length * n);
    expect(c1[0]).to.equal(raw.data[primes.length * n]);
    primes.forEach((q, j) => {
      expect(Array.from(c1.subarray(j * n, (j + 1) * n)).every((residue) => residue < q)).to.equal(true);
    });
    expect(() => ciphertextPolynomial(raw, 2)).to.throw(SealFormatError, /no polynomial 2/);
  });

  it("rejects truncated, padded, compressed, foreign and inconsistent bytes with a SealFormatError", async () => {
    const { ctx, keys, bundle } = await keyedContext("fast-v1");
    const ciphertext = ctx.encrypt(sampleUpdate(10, 4), bundle.encryptor);
    const bytes = ctx.saveCiphertext(ciphertext);
    const zstd = new Uint8Array(ciphertext.saveToArray(ctx.seal.ComprModeType.zstd) as ArrayLike<number>);
    ciphertext.delete();
    const cases: [string, Uint8Array, RegExp][] = [
      ["empty", new Uint8Array(0), /truncated/],
      ["truncated", bytes.subarray(0, bytes.length - 1), /header says/],
      ["padded", Uint8Array.from([...bytes, 0]), /header says/],
      ["compressed", zstd, /compression mode 2/],
      ["bad magic", withByte(bytes, 0, 0x00), /magic/],
      ["version 3.1", withByte(bytes, 3, 3), /version 3\.1/],
      ["reserved", withByte(bytes, 6, 1), /reserved/],
      ["ntt flag", withByte(bytes, 48, 7), /is_ntt_form/],
      ["size 1", withU64(bytes, 49, 1n), /size 1/],
      ["size huge", withU64(bytes, 49, 2n ** 40n), /exceeds/],
      ["degree", withU64(bytes, 57, 8191n), /coefficient data should take|power of two/],
      ["prime count", withU64(bytes, 65, 2n), /coefficient data should take/],
      ["scale", withF64(bytes, 73, Number.NaN), /scale/],
      ["nested count", withU64(bytes, 105, 5n), /holds 5 values/],
    ];
    for (const [name, input, message] of cases) {
      expect(() => parseCiphertext(input), name).to.throw(SealFormatError, message);
    }
    expect(() => parsePlaintext(bytes, "secret key")).to.throw(SealFormatError, /secret key bytes/);
    expect(() => parseCiphertext(keys.secretKey)).to.throw(SealFormatError);
  });

  it("never throws anything but SealFormatError on random mutations (fuzz)", async () => {
    const { ctx, bundle } = await keyedContext("fast-v1");
    const ciphertext = ctx.encrypt(sampleUpdate(10, 5), bundle.encryptor);
    const bytes = ctx.saveCiphertext(ciphertext);
    ciphertext.delete();
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: bytes.length - 1 })),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 3 }),
        (offset, value, cut) => {
          const mutated = withByte(bytes, offset, value).subarray(0, bytes.length - cut);
          try {
            parseCiphertext(mutated);
          } catch (error) {
            expect(error).to.be.instanceOf(SealFormatError);
            rejected++;
          }
        },
      ),
      { numRuns: 400, seed: 7 },
    );
    expect(rejected).to.be.above(100);
  });

  it("refuses to serialize data whose length disagrees with the shape", () => {
    expect(() =>
      serializePlaintext({ parmsId: [0n, 0n, 0n, 0n], coeffCount: 3, scale: 1, data: new BigUint64Array(2) }),
    ).to.throw(SealFormatError, /coefficient count/);
    expect(() =>
      serializeCiphertext({
        parmsId: [0n, 0n, 0n, 0n],
        isNttForm: true,
        size: 2,
        polyModulusDegree: 4,
        coeffModulusSize: 1,
        scale: 1,
        correctionFactor: 1n,
        data: new BigUint64Array(7),
      }),
    ).to.throw(SealFormatError, /size × primes × N/);
  });
});
