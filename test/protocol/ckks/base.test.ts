import { expect } from "chai";
import { keccak256 as ethersKeccak256 } from "ethers";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { CkksError, MalformedKeyMaterialError, UnsupportedParametersError } from "@ciphershare/protocol/ckks/errors";
import {
  generateKeys,
  loadPublicBundle,
  loadSecretKey,
  parsePublicBundle,
  powerOfTwoSteps,
  publicBundleHash,
  publicBundleParts,
  serializePublicBundle,
  type GeneratedKeys,
} from "@ciphershare/protocol/ckks/keys";
import { getParameterSet, getParameterSetByNumericId, PARAMETER_SETS } from "@ciphershare/protocol/ckks/params";
import { sealCall } from "@ciphershare/protocol/ckks/seal";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { bytesToHex, hexToBytes } from "@ciphershare/protocol/hex";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { fastContext } from "../../support/ckks";
import { rejectionOf } from "../../support/rejection";

describe("ckks base", () => {
  describe("parameter sets", () => {
    it("has a fast N=8192 and a deep N=16384 set at 128-bit security", () => {
      const fast = getParameterSet("fast-v1");
      const deep = getParameterSet("deep-v1");
      expect(fast.polyModulusDegree).to.equal(8192);
      expect(deep.polyModulusDegree).to.equal(16384);
      expect(deep.coeffModulusBits).to.deep.equal([60, 50, 50, 50, 60]);
      expect(deep.scale).to.equal(2 ** 50);
      expect(deep.multiplicativeDepth).to.equal(3);
      for (const set of Object.values(PARAMETER_SETS)) {
        expect(getParameterSetByNumericId(set.numericId)).to.equal(set);
        expect(set.securityBits).to.equal(128);
      }
    });

    it("rejects unknown ids by name and number", () => {
      expect(() => getParameterSet("fast-v0")).to.throw(
        UnsupportedParametersError,
        /Unknown CKKS parameter set "fast-v0"/,
      );
      expect(() => getParameterSet("toString")).to.throw(UnsupportedParametersError);
      expect(() => getParameterSetByNumericId(0)).to.throw(UnsupportedParametersError, /number 0/);
    });
  });

  describe("keccak256", () => {
    it("matches ethers' keccak256 (Ethereum Keccak, not SHA3)", async () => {
      for (const length of [0, 1, 135, 136, 137, 10_000]) {
        const bytes = Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
        expect(await keccak256(bytes)).to.equal(ethersKeccak256(bytes));
      }
      const parts = [Uint8Array.of(1, 2), Uint8Array.of(3)];
      expect(await keccak256(parts)).to.equal(ethersKeccak256(Uint8Array.of(1, 2, 3)));
    });

    it("round-trips hex and rejects malformed hex", () => {
      const bytes = Uint8Array.of(0, 1, 254, 255);
      expect(bytesToHex(bytes)).to.equal("0x0001feff");
      expect(hexToBytes("0x0001FEFF")).to.deep.equal(bytes);
      expect(() => hexToBytes("0x123")).to.throw(InvalidInputError);
      expect(() => hexToBytes("0x12", 32)).to.throw(InvalidInputError, /32 bytes/);
    });
  });

  describe("SEAL errors", () => {
    it("become CkksErrors naming the operation and SEAL's message", async () => {
      const ctx = await fastContext();
      expect(() =>
        sealCall("build a modulus", () => ctx.seal.CoeffModulus.Create(8192, Int32Array.from([60, 99]))),
      ).to.throw(CkksError, /build a modulus[\s\S]*invalid_argument/);
    });
  });

  describe("context, keys and bundle", () => {
    let ctx: CkksContext;
    let keys: GeneratedKeys;
    before(async () => {
      ctx = await fastContext();
      keys = generateKeys(ctx, { galoisSteps: [3, 1], slotSumSteps: false });
    });

    it("encrypts and decrypts to within 1e-6 (fast-v1)", async () => {
      const bundle = await loadPublicBundle(ctx, keys.bundle);
      const secret = loadSecretKey(ctx, keys.secretKey);
      try {
        const values = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
        const ct = ctx.encrypt(values, bundle.encryptor);
        const out = ctx.decrypt(ct, secret.decryptor);
        ct.delete();
        expect(out.length).to.equal(ctx.slotCount);
        let maxError = 0;
        for (let i = 0; i < ctx.slotCount; i++) maxError = Math.max(maxError, Math.abs(out[i] - (values[i] ?? 0)));
        expect(maxError).to.be.below(1e-6);
      } finally {
        bundle.dispose();
        secret.dispose();
      }
    });

    it("refuses non-finite values and too many values", () => {
      expect(() => ctx.encode(Float64Array.of(1, NaN))).to.throw(InvalidInputError, /value\[1\] = NaN/);
      expect(() => ctx.encode(new Float64Array(ctx.slotCount + 1))).to.throw(InvalidInputError, /4097 values/);
    });

    it("serializes the bundle deterministically and parses it back", async () => {
      const bytes = serializePublicBundle(keys.bundle);
      expect(serializePublicBundle(parsePublicBundle(bytes))).to.deep.equal(bytes);
      expect(parsePublicBundle(bytes).galoisSteps).to.deep.equal([1, 3]);
      // The on-chain hash names a manifest of the two halves, not the whole bundle's bytes.
      const parts = await publicBundleParts(keys.bundle);
      expect(await publicBundleHash(keys.bundle)).to.equal(ethersKeccak256(parts.manifest));
      expect(parts.encryptionHash).to.equal(ethersKeccak256(parts.encryption));
      expect(parts.evaluationHash).to.equal(ethersKeccak256(parts.evaluation));
      const loaded = await loadPublicBundle(ctx, bytes);
      expect(loaded.hash).to.equal(await publicBundleHash(keys.bundle));
      expect(loaded.galoisKeys).to.not.equal(undefined);
      loaded.dispose();
    });

    it("rejects malformed bundles with a clear error", () => {
      const bytes = serializePublicBundle(keys.bundle);
      expect(() => parsePublicBundle(bytes.subarray(0, bytes.length - 1))).to.throw(MalformedKeyMaterialError);
      expect(() => parsePublicBundle(padded(bytes))).to.throw(MalformedKeyMaterialError, /trailing/);
      const badMagic = bytes.slice();
      badMagic[0] = 0;
      expect(() => parsePublicBundle(badMagic)).to.throw(MalformedKeyMaterialError, /magic/);
      const badSet = bytes.slice();
      badSet[5] = 9;
      expect(() => parsePublicBundle(badSet)).to.throw(UnsupportedParametersError);
    });

    it("adds the power-of-two steps on request and validates steps", () => {
      expect(powerOfTwoSteps(8, false)).to.deep.equal([1, 2, 4]);
      expect(() => generateKeys(ctx, { galoisSteps: [1.5] })).to.throw(UnsupportedParametersError);
      expect(() => generateKeys(ctx, { galoisSteps: [-4096] })).to.throw(UnsupportedParametersError);
      expect(() => generateKeys(ctx, { galoisSteps: [4096] })).to.throw(UnsupportedParametersError);
    });

    it("refuses a bundle of another parameter set", async () => {
      const other = { ...keys.bundle, parameterSetId: "deep-v1" };
      await rejectionOf(loadPublicBundle(ctx, other), MalformedKeyMaterialError, /another parameter set/);
    });
  });
});

function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}
