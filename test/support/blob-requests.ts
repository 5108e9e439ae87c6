// Reading a guarded blob server as a given party: unsigned, signed by a fresh outsider key, or by a role's account.
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Hex } from "@ciphershare/protocol/hex";
import { blobAccessDomain } from "@ciphershare/coprocessor/roles/input-requests";
import { blobRequestSigner, type TypedDataAccount } from "@ciphershare/coprocessor/storage/blob-access";

/** HTTP status of `GET /blobs/<hash>` with `headers`. */
export async function blobStatus(url: string, hash: Hex, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${url}/blobs/${hash}`, { headers });
  await response.body?.cancel().catch(() => {});
  return response.status;
}

/** Signed-request headers for one read of `hash` by `account` (a fresh outsider when none is given). */
export function signedBy(
  deployment: Deployment,
  hash: Hex,
  account: TypedDataAccount = privateKeyToAccount(generatePrivateKey()),
): Promise<Record<string, string>> {
  return blobRequestSigner(account, blobAccessDomain(deployment))(hash);
}

/** The statuses an unsigned request, an outsider's signed request and `reader`'s signed request get for `hash`. */
export async function accessOf(
  url: string,
  deployment: Deployment,
  hash: Hex,
  reader: TypedDataAccount,
): Promise<{ unsigned: number; outsider: number; reader: number }> {
  return {
    unsigned: await blobStatus(url, hash),
    outsider: await blobStatus(url, hash, await signedBy(deployment, hash)),
    reader: await blobStatus(url, hash, await signedBy(deployment, hash, reader)),
  };
}
