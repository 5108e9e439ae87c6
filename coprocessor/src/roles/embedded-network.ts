// The embedded default network of a workspace: the local fhEVM chain and the blob store's HTTP server, announced in
// the workspace (node.json, blobs.json) for the role processes. `ciphershare node start`, the demo, `npm run app`
// and the end-to-end tests all start it here.
import { rmSync } from "node:fs";
import { chainReader } from "../chain/clients";
import { startLocalNode, type LocalNode } from "../chain/localNode";
import { removeNodeInfo, writeNodeInfo } from "../chain/nodeInfo";
import { startBlobServer, type RunningBlobServer } from "../storage/http-server";
import { LocalDirectoryBlobStore } from "../storage/local-directory";
import { WorkspaceInputAccess } from "./input-access";
import { openWorkspace, writeJsonFile, type Workspace } from "./workspace";

export interface EmbeddedNetworkOptions {
  /** Chain port; 0 (the default) lets the system choose. */
  readonly port?: number;
  /** Blob server port; 0 (the default) lets the system choose. */
  readonly blobPort?: number;
  /** Origins the blob server lets upload from a browser (the web app's). */
  readonly allowedOrigins?: readonly string[];
}

export interface EmbeddedNetwork {
  readonly ws: Workspace;
  readonly chain: LocalNode;
  readonly blobs: RunningBlobServer;
  /** Stops the blob server and the chain and removes their announcements from the workspace. */
  stop(): Promise<void>;
}

export async function startEmbeddedNetwork(
  home: string,
  options: EmbeddedNetworkOptions = {},
): Promise<EmbeddedNetwork> {
  const ws = openWorkspace(home);
  const chain = await startLocalNode({ port: options.port ?? 0 });
  let blobs: RunningBlobServer;
  try {
    // Inputs only for those who compute: a round's input ciphertexts go only to signed requests of its program's
    // coprocessor, custodians and named input auditors (input-access.ts); everything else stays public.
    blobs = await startBlobServer(new LocalDirectoryBlobStore(ws.blobsDir), {
      port: options.blobPort ?? 0,
      allowedOrigins: options.allowedOrigins,
      access: new WorkspaceInputAccess(ws, chainReader(chain.rpcUrl, chain.chainId)),
    });
  } catch (error) {
    await chain.stop();
    throw error;
  }
  writeNodeInfo(ws.nodeInfoFile, chain);
  writeJsonFile(ws.blobServerFile, { url: blobs.url });
  return {
    ws,
    chain,
    blobs,
    stop: async () => {
      removeNodeInfo(ws.nodeInfoFile);
      rmSync(ws.blobServerFile, { force: true });
      await blobs.close();
      await chain.stop();
    },
  };
}
