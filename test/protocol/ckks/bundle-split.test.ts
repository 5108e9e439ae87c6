import { expect } from "chai";
import {
  KeyBundleHashMismatchError,
  readEncryptionBundle,
  readPublicBundle,
  type BlobReader,
} from "@ciphershare/protocol/ckks/bundle-fetch";
import { parseBundleManifest, serializeBundleManifest } from "@ciphershare/protocol/ckks/bundle-manifest";
import { EnvelopeKind, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { MalformedKeyMaterialError } from "@ciphershare/protocol/ckks/errors";
import {
  generateKeys,
  loadEncryptionKey,
  loadPublicBundle,
  loadSecretKey,
  publicBundleHash,
  publicBundleParts,
  serializePublicBundle,
  type PublishedBundleParts,
} from "@ciphershare/protocol/ckks/keys";
import { decryptEnvelopeValues, encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import type { Hex } from "@ciphershare/protocol/hex";
import { fastContext } from "../../support/ckks";
import { rejectionOf } from "../../support/rejection";

/** A content-addressed store in memory that records what was read, optionally lying about one hash. */
function memoryStore(blobs: readonly Uint8Array[], lies: Map<string, Uint8Array> = new Map()) {
  const byHash = new Map<string, Uint8Array>();
  const reads: Hex[] = [];
  const ready = Promise.all(blobs.map(async (b) => byHash.set((await keccak256(b)).toLowerCase(), b)));
  const read: BlobReader = async (hash) => {
    await ready;
    reads.push(hash);
    const bytes = lies.get(hash.toLowerCase()) ?? byHash.get(hash.toLowerCase());
    if (!bytes) throw new Error(`no blob ${hash}`);
    return bytes;
  };
  return { read, reads };
}

describe("key bundle split: a contributor's encryption bundle and the coprocessor's evaluation bundle", () => {
  let parts: PublishedBundleParts;
  let keys: ReturnType<typeof generateKeys>;

  before(async () => {
    const ctx = await fastContext();
    keys = generateKeys(ctx, { galoisSteps: [1, 2, 3, 4] });
    parts = await publicBundleParts(keys.bundle);
  });

  it("publishes a 70-byte manifest whose hash is the bundle's hash and names both halves", async () => {
    expect(parts.manifest.length).to.equal(70);
    expect(parts.hash).to.equal(await keccak256(parts.manifest));
    expect(await publicBundleHash(keys.bundle)).to.equal(parts.hash);
    expect(parseBundleManifest(parts.manifest)).to.deep.equal({
      parameterSetId: "fast-v1",
      encryptionHash: parts.encryptionHash,
      evaluationHash: parts.evaluationHash,
    });
    // Deterministic: the same keys give the same three blobs.
    const again = await publicBundleParts(keys.bundle);
    expect(again.manifest).to.deep.equal(parts.manifest);
    // The encryption half is the public key and a few header bytes; the Galois keys are all in the other half.
    expect(parts.encryption.length).to.be.below(keys.bundle.publicKey.length + 64);
    expect(parts.evaluation.length).to.be.above(keys.bundle.galoisKeys.length);
  });

  it("gives a contributor only the public key, and its envelopes name the on-chain hash and decrypt", async () => {
    const ctx = await fastContext();
    const store = memoryStore([parts.manifest, parts.encryption, parts.evaluation]);
    const fetched = await readEncryptionBundle(store.read, parts.hash);
    expect(store.reads).to.deep.equal([parts.hash, parts.encryptionHash]);
    expect(fetched.bundle.relinKeys.length + fetched.bundle.galoisKeys.length).to.equal(0);
    const key = loadEncryptionKey(ctx, fetched.bundle, parts.hash);
    const values = Float64Array.from({ length: 50 }, (_, i) => i / 10 - 2);
    const envelope = await encryptModelUpdate(ctx, key, { tensors: [{ name: "w", shape: [50] }], values });
    key.dispose();
    const parsed = await parseEnvelope(envelope, { kind: EnvelopeKind.Contribution, publicBundleHash: parts.hash });
    const secret = loadSecretKey(ctx, keys.secretKey);
    try {
      const out = decryptEnvelopeValues(ctx, parsed, secret.decryptor);
      for (let i = 0; i < values.length; i++) expect(out[i]).to.be.closeTo(values[i], 1e-6);
    } finally {
      secret.dispose();
    }
  });

  it("gives the coprocessor the whole bundle back, with the same hash", async () => {
    const ctx = await fastContext();
    const store = memoryStore([parts.manifest, parts.encryption, parts.evaluation]);
    const whole = await readPublicBundle(store.read, parts.hash);
    expect(serializePublicBundle(whole)).to.deep.equal(serializePublicBundle(keys.bundle));
    const loaded = await loadPublicBundle(ctx, serializePublicBundle(whole));
    expect(loaded.hash).to.equal(parts.hash);
    expect(loaded.galoisSteps).to.deep.equal([1, 2, 3, 4]);
    loaded.dispose();
  });

  it("refuses a store that serves another public key for the manifest's encryption hash", async () => {
    const ctx = await fastContext();
    const attacker = await publicBundleParts(generateKeys(ctx).bundle);
    const store = memoryStore(
      [parts.manifest, parts.encryption],
      new Map([[parts.encryptionHash.toLowerCase(), attacker.encryption]]),
    );
    await rejectionOf(
      readEncryptionBundle(store.read, parts.hash),
      KeyBundleHashMismatchError,
      /encryption bundle does not match its hash/,
    );
  });

  it("refuses a manifest that is not the one the chain pins (it would name the attacker's key)", async () => {
    const ctx = await fastContext();
    const attacker = await publicBundleParts(generateKeys(ctx).bundle);
    const store = memoryStore([], new Map([[parts.hash.toLowerCase(), attacker.manifest]]));
    await rejectionOf(
      readEncryptionBundle(store.read, parts.hash),
      KeyBundleHashMismatchError,
      /manifest does not match its hash/,
    );
  });

  it("refuses a manifest that names the halves the wrong way round", async () => {
    const swapped = serializeBundleManifest({
      parameterSetId: "fast-v1",
      encryptionHash: parts.evaluationHash,
      evaluationHash: parts.encryptionHash,
    });
    const store = memoryStore([swapped, parts.encryption, parts.evaluation]);
    await rejectionOf(
      readEncryptionBundle(store.read, await keccak256(swapped)),
      MalformedKeyMaterialError,
      /encryption bundle holds the wrong keys/,
    );
  });

  it("refuses malformed manifests with what was wrong", () => {
    expect(() => parseBundleManifest(parts.manifest.subarray(0, 69))).to.throw(MalformedKeyMaterialError, /wrong size/);
    const badMagic = parts.manifest.slice();
    badMagic[0] = 0;
    expect(() => parseBundleManifest(badMagic)).to.throw(MalformedKeyMaterialError, /bad magic/);
    const badVersion = parts.manifest.slice();
    badVersion[4] = 9;
    expect(() => parseBundleManifest(badVersion)).to.throw(MalformedKeyMaterialError, /format version/);
    const badSet = parts.manifest.slice();
    badSet[5] = 200;
    expect(() => parseBundleManifest(badSet)).to.throw(/parameter set number 200/);
  });
});
