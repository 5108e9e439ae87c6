import { readEncryptionBundle, readPublicBundle, type BlobReader } from "@ciphershare/protocol/ckks/bundle-fetch";
import { serializePublicBundle, type PublicBundle, type PublishedBundleParts } from "@ciphershare/protocol/ckks/keys";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { BlobIntegrityError, type BlobStore } from "./blob-store";

/** A blob store's `get` as the protocol's bundle readers take it. */
export function storeReader(store: BlobStore): BlobReader {
  return (hash) => store.get(hash);
}

/**
 * Publishes a bundle's three blobs, halves first and the manifest last, so a manifest in the store always names
 * halves that are there. Returns the manifest's hash (the program's on-chain key hash).
 */
export async function publishBundleParts(store: BlobStore, parts: PublishedBundleParts): Promise<Hex> {
  for (const [bytes, hash] of [
    [parts.encryption, parts.encryptionHash],
    [parts.evaluation, parts.evaluationHash],
    [parts.manifest, parts.hash],
  ] as const) {
    const stored = await store.put(bytes);
    if (!sameHash(stored, hash)) {
      throw new BlobIntegrityError("The blob store named a key bundle blob by another hash.", {
        details: `stored as ${stored}, expected ${hash}`,
      });
    }
  }
  return parts.hash;
}

/** The whole bundle (both halves) named by the manifest hash, verified, as `serializePublicBundle` bytes. */
export async function readBundleBytes(store: BlobStore, hash: Hex): Promise<Uint8Array> {
  return serializePublicBundle(await readPublicBundle(storeReader(store), hash));
}

/** Only the encryption half (public key) named by the manifest hash, verified. */
export async function readContributorBundle(store: BlobStore, hash: Hex): Promise<PublicBundle> {
  return (await readEncryptionBundle(storeReader(store), hash)).bundle;
}
