import { keccak256 } from "../../../coprocessor/src/hash/keccak";
import type { Hex } from "viem";

/** A key bundle that cannot be used: the message says what to do. */
export class KeyBundleError extends Error {
  override readonly name = "KeyBundleError";
}

/**
 * Fetches a program's CKKS key bundle from the coprocessor's content-addressed blob store and checks
 * that its keccak256 is the hash the program committed on-chain. Encrypting under any other key would
 * hand the update to whoever holds that key's secret.
 */
export async function fetchKeyBundle(
  coprocessorUrl: string,
  onChainHash: Hex,
  fetchFn: typeof fetch = (...args) => fetch(...args),
): Promise<Uint8Array> {
  const url = `${coprocessorUrl}/blobs/${onChainHash}`;
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch {
    throw new KeyBundleError(`The coprocessor at ${coprocessorUrl} is not answering; is it running?`);
  }
  if (response.status === 404) {
    throw new KeyBundleError(
      `The coprocessor at ${coprocessorUrl} has no key bundle ${onChainHash}; is it this program's coprocessor?`,
    );
  }
  if (!response.ok) throw new KeyBundleError(`The coprocessor answered HTTP ${response.status} for the key bundle.`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const actual = await keccak256(bytes);
  if (actual.toLowerCase() !== onChainHash.toLowerCase()) {
    throw new KeyBundleError(
      `Wrong key bundle: the coprocessor served one with hash ${actual}, but the program committed ${onChainHash} on-chain. Do not encrypt under it.`,
    );
  }
  return bytes;
}
