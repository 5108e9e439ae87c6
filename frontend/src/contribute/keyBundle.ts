import { parseBundleManifest } from "@ciphershare/protocol/ckks/bundle-manifest";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import type { Hex } from "viem";

/** A key bundle that cannot be used: the message says what to do. */
export class KeyBundleError extends Error {
  override readonly name = "KeyBundleError";
}

/** What fetching a blob by its committed hash found. */
export type BlobCheck =
  | { readonly status: "match"; readonly bytes: Uint8Array }
  | { readonly status: "missing" }
  /** A round's input: the store serves it only to signed requests of the round's computing parties. */
  | { readonly status: "restricted" }
  | { readonly status: "mismatch"; readonly actualHash: Hex };

/**
 * Fetches a blob from the coprocessor's content-addressed store by the hash committed on-chain and
 * hashes what came back: the store's word is not taken for it. Throws only when the store is down.
 */
export async function checkBlob(
  coprocessorUrl: string,
  committedHash: Hex,
  fetchFn: typeof fetch = (...args) => fetch(...args),
): Promise<BlobCheck> {
  let response: Response;
  try {
    response = await fetchFn(`${coprocessorUrl}/blobs/${committedHash}`);
  } catch {
    throw new KeyBundleError(`The coprocessor at ${coprocessorUrl} is not answering; is it running?`);
  }
  if (response.status === 404) return { status: "missing" };
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel().catch(() => {});
    return { status: "restricted" };
  }
  if (!response.ok) throw new KeyBundleError(`The coprocessor answered HTTP ${response.status} for ${committedHash}.`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const actualHash = await keccak256(bytes);
  return actualHash.toLowerCase() === committedHash.toLowerCase()
    ? { status: "match", bytes }
    : { status: "mismatch", actualHash };
}

/**
 * Fetches what a contributor needs of a program's CKKS key bundle from the coprocessor's content-addressed blob store:
 * the manifest whose keccak256 is the hash the program committed on-chain, then the encryption bundle (public key
 * only, under 1 MB) whose keccak256 the manifest names. The evaluation keys (hundreds of MB) are never downloaded.
 * Encrypting under any other key would hand the update to whoever holds that key's secret.
 */
export async function fetchKeyBundle(
  coprocessorUrl: string,
  onChainHash: Hex,
  fetchFn: typeof fetch = (...args) => fetch(...args),
): Promise<Uint8Array> {
  const manifestBytes = await fetchChecked(coprocessorUrl, onChainHash, fetchFn, "key bundle");
  let manifest;
  try {
    manifest = parseBundleManifest(manifestBytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new KeyBundleError(`The program's key hash ${onChainHash} does not name a key bundle manifest: ${reason}`);
  }
  return fetchChecked(coprocessorUrl, manifest.encryptionHash, fetchFn, "encryption key");
}

async function fetchChecked(
  coprocessorUrl: string,
  hash: Hex,
  fetchFn: typeof fetch,
  what: "key bundle" | "encryption key",
): Promise<Uint8Array> {
  const found = await checkBlob(coprocessorUrl, hash, fetchFn);
  if (found.status === "missing") {
    throw new KeyBundleError(
      `The coprocessor at ${coprocessorUrl} has no ${what} ${hash}; is it this program's coprocessor?`,
    );
  }
  if (found.status === "mismatch") {
    throw new KeyBundleError(
      what === "key bundle"
        ? `Wrong key bundle: the coprocessor served one with hash ${found.actualHash}, but the program committed ${hash} on-chain. Do not encrypt under it.`
        : `Wrong encryption key: the coprocessor served one with hash ${found.actualHash}, but the program's key bundle names ${hash}. Do not encrypt under it.`,
    );
  }
  if (found.status === "restricted") {
    throw new KeyBundleError(`The coprocessor at ${coprocessorUrl} refused to serve the ${what} ${hash}.`);
  }
  return found.bytes;
}
