import { createXXHash128, type IHasher } from "hash-wasm";
import type { Hex } from "../hex";

let hasher: IHasher | undefined;
let loading: Promise<IHasher> | undefined;

/**
 * XXH3-128: a fast (≈3–4 GB/s here, 15× keccak) non-cryptographic checksum that catches accidental
 * corruption — bit flips, truncation, splices — with 2^-128 odds of a miss. It is not a security
 * binding: anyone can recompute it, which is why envelopes are bound to their owners by the keccak256
 * commitment a contract records.
 */
export async function initChecksum(): Promise<void> {
  if (hasher) return;
  loading ??= createXXHash128();
  hasher = await loading;
}

/** XXH3-128 of the concatenated parts, as 0x-hex (16 bytes); `initChecksum()` must have resolved. */
export function checksum128Sync(parts: readonly Uint8Array[]): Hex {
  if (!hasher) throw new Error("checksum128Sync called before initChecksum() resolved");
  hasher.init();
  for (const part of parts) hasher.update(part);
  return `0x${hasher.digest("hex")}`;
}
