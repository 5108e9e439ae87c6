import { keccak256 } from "../hashing/keccak";
import { sameHash, type Hex } from "../hex";
import { parseBundleManifest, type BundleManifest } from "./bundle-manifest";
import { MalformedKeyMaterialError } from "./errors";
import { parsePublicBundle, type PublicBundle } from "./keys";

/** Reads a blob by its keccak256 (a blob store's `get`, an HTTP fetch, a cache). */
export type BlobReader = (hash: Hex) => Promise<Uint8Array>;

/** The fetched bytes do not hash to the name they were fetched by: the source is corrupt or lying. */
export class KeyBundleHashMismatchError extends MalformedKeyMaterialError {
  override name = "KeyBundleHashMismatchError";
}

async function verified(read: BlobReader, hash: Hex, what: string): Promise<Uint8Array> {
  const bytes = await read(hash);
  const actual = await keccak256(bytes);
  if (!sameHash(actual, hash)) {
    throw new KeyBundleHashMismatchError(`The ${what} does not match its hash; refusing to use it.`, {
      details: `got ${actual}, expected ${hash}`,
    });
  }
  return bytes;
}

/** The manifest a program's on-chain key hash names, verified against that hash. */
export async function readBundleManifest(read: BlobReader, hash: Hex): Promise<BundleManifest> {
  return parseBundleManifest(await verified(read, hash, "key bundle manifest"));
}

/**
 * What a contributor downloads: the manifest named by the on-chain hash, then the encryption bundle it names, each
 * verified against its hash. Returns the encryption bundle's bytes (public key only, a few hundred KB to ~1 MB) and
 * the bundle itself; nothing of the evaluation keys is fetched.
 */
export async function readEncryptionBundle(
  read: BlobReader,
  hash: Hex,
): Promise<{ readonly bytes: Uint8Array; readonly bundle: PublicBundle; readonly manifest: BundleManifest }> {
  const manifest = await readBundleManifest(read, hash);
  const bytes = await verified(read, manifest.encryptionHash, "encryption bundle");
  const bundle = parsePublicBundle(bytes);
  checkPart(bundle, manifest, "encryption");
  return { bytes, bundle, manifest };
}

/**
 * What the coprocessor and the auditor download: both halves named by the manifest, verified, merged into the whole
 * bundle (`publicBundleHash` of the result is `hash`).
 */
export async function readPublicBundle(read: BlobReader, hash: Hex): Promise<PublicBundle> {
  const { bundle: encryption, manifest } = await readEncryptionBundle(read, hash);
  const evaluation = parsePublicBundle(await verified(read, manifest.evaluationHash, "evaluation bundle"));
  checkPart(evaluation, manifest, "evaluation");
  return { ...evaluation, publicKey: encryption.publicKey };
}

function checkPart(part: PublicBundle, manifest: BundleManifest, kind: "encryption" | "evaluation"): void {
  if (part.parameterSetId !== manifest.parameterSetId) {
    throw new MalformedKeyMaterialError(`The ${kind} bundle is for another parameter set than its manifest.`, {
      details: `bundle ${part.parameterSetId}, manifest ${manifest.parameterSetId}`,
    });
  }
  const wrong =
    kind === "encryption"
      ? part.publicKey.length === 0 || part.relinKeys.length > 0 || part.galoisKeys.length > 0
      : part.publicKey.length > 0;
  if (wrong) {
    throw new MalformedKeyMaterialError(`The ${kind} bundle holds the wrong keys.`, {
      details:
        kind === "encryption"
          ? "an encryption bundle holds exactly a public key"
          : "an evaluation bundle holds no public key",
    });
  }
}
