// A role's signed blob requests: every read a role process makes from its workspace's blob store (or a store a
// contribution's URI names) carries an EIP-712 `BlobRequest` signed by the role's account (`storage/blob-access.ts`).
// Public blobs ignore it; a round's input ciphertexts are served only when the signer is the program's coprocessor,
// one of its custodians (committee members) or a named input auditor (`input-access.ts`). A signature names one
// blob and lives a minute, so handing it to a contributor's own store can at most fetch that contributor's blob.
// Light on purpose: the coprocessor's command imports it, and its module graph must reach no key custody.
import { existsSync, readFileSync } from "node:fs";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Hex } from "@ciphershare/protocol/hex";
import { blobRequestSigner, type BlobAccessDomain, type TypedDataAccount } from "../storage/blob-access";
import type { Workspace } from "./workspace";

/** The EIP-712 domain of a deployment's signed blob requests. */
export function blobAccessDomain(deployment: Deployment): BlobAccessDomain {
  return { chainId: deployment.chainId, hub: deployment.rounds };
}

/** Signed-request headers for `account`'s reads under the workspace's deployment; none before a deployment exists. */
export type RequestAuthorizer = (hash: Hex) => Promise<Record<string, string>>;

export function workspaceRequestSigner(
  ws: Pick<Workspace, "deploymentFile">,
  account: TypedDataAccount,
): RequestAuthorizer {
  let signer: { readonly hub: string; readonly sign: RequestAuthorizer } | undefined;
  return async (hash) => {
    if (!existsSync(ws.deploymentFile)) return {};
    const deployment = JSON.parse(readFileSync(ws.deploymentFile, "utf8")) as Deployment;
    if (signer === undefined || signer.hub !== deployment.rounds) {
      signer = { hub: deployment.rounds, sign: blobRequestSigner(account, blobAccessDomain(deployment)) };
    }
    return signer.sign(hash);
  };
}
