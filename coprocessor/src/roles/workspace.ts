// The workspace every role process shares on the embedded default (`.ciphershare/`, `--home` to override): the
// node info file, the deployment addresses, the blob store, each role's SQLite database and the custodian keystore.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Hex } from "@ciphershare/protocol/hex";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { chainReader, type ChainReader } from "../chain/clients";
import { readNodeInfo, resolveRpcUrl } from "../chain/nodeInfo";
import type { BlobFetchLimits, BlobStore } from "../storage/blob-store";
import { HttpBlobStore } from "../storage/http-client";
import { LocalDirectoryBlobStore } from "../storage/local-directory";

export const DEFAULT_HOME = ".ciphershare";

/** Which Hardhat development account each role uses on the embedded chain (`--private-key` for real use). */
export const ROLE_ACCOUNT = { network: 0, coprocessor: 1, custodian: 2, relayer: 3, firstContributor: 4 } as const;

export class WorkspaceError extends CipherShareError {
  override name = "WorkspaceError";
}

export interface Workspace {
  readonly home: string;
  readonly nodeInfoFile: string;
  readonly blobServerFile: string;
  readonly deploymentFile: string;
  readonly blobsDir: string;
  readonly coprocessorDb: string;
  readonly custodianDb: string;
  readonly keystoreFile: string;
  readonly bundlePointerFile: string;
  contributorDir(address: string): string;
}

export function openWorkspace(home: string = DEFAULT_HOME): Workspace {
  const root = resolve(home);
  mkdirSync(root, { recursive: true });
  return {
    home: root,
    nodeInfoFile: join(root, "node.json"),
    blobServerFile: join(root, "blobs.json"),
    deploymentFile: join(root, "deployment.json"),
    blobsDir: join(root, "blobs"),
    coprocessorDb: join(root, "coprocessor.sqlite"),
    custodianDb: join(root, "custodian.sqlite"),
    keystoreFile: join(root, "custodian.keystore.json"),
    bundlePointerFile: join(root, "public-bundle.json"),
    contributorDir: (address) => {
      const dir = join(root, "contributors", address.toLowerCase());
      mkdirSync(dir, { recursive: true });
      return dir;
    },
  };
}

export function writeJsonFile(path: string, value: unknown): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(value, null, 2) + "\n");
  renameSync(temporary, path);
}

export function readJsonFile<T>(path: string, what: string, hint: string): T {
  if (!existsSync(path)) throw new WorkspaceError(`No ${what} found: ${hint}`, { details: path });
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export function readDeployment(ws: Workspace): Deployment {
  return readJsonFile<Deployment>(ws.deploymentFile, "deployment", "run `ciphershare network deploy` first.");
}

/** The chain's RPC URL: `--rpc-url`, then $CIPHERSHARE_RPC_URL, then the workspace's node info file. */
export function rpcUrlOf(ws: Workspace, explicit?: string): string {
  try {
    return resolveRpcUrl({ rpcUrl: explicit, infoFile: ws.nodeInfoFile });
  } catch (error) {
    throw new WorkspaceError("No chain to talk to: start one with `ciphershare node start` or pass --rpc-url.", {
      details: ws.nodeInfoFile,
      cause: error,
    });
  }
}

export function chainIdOf(ws: Workspace): number {
  return existsSync(ws.nodeInfoFile) ? readNodeInfo(ws.nodeInfoFile).chainId : 31337;
}

/** The chain reader every role of the workspace uses. */
export function readerFor(ws: Workspace, rpcUrl?: string): ChainReader {
  return chainReader(rpcUrlOf(ws, rpcUrl), chainIdOf(ws));
}

export function contributorAccount(index: number): number {
  return ROLE_ACCOUNT.firstContributor + index;
}

/** Signed-request headers for reading a blob (`input-requests.ts`): a role's reads, signed by its account. */
export type BlobReadAuthorizer = (hash: Hex) => Promise<Record<string, string>>;

/**
 * The blob store: the HTTP server named in `blobs.json` if one runs (its reads signed by `authorize`, so that the
 * role may read the inputs it computes on), else the local directory.
 */
export function openBlobStore(ws: Workspace, authorize?: BlobReadAuthorizer): BlobStore {
  if (existsSync(ws.blobServerFile)) {
    const { url } = JSON.parse(readFileSync(ws.blobServerFile, "utf8")) as { url: string };
    return new HttpBlobStore(url, {}, authorize);
  }
  return new LocalDirectoryBlobStore(ws.blobsDir);
}

/** Where contributors say their blobs are (the commitment's `uri`): the HTTP store's URL or `local:`. */
export function storeUri(ws: Workspace): string {
  if (existsSync(ws.blobServerFile))
    return (JSON.parse(readFileSync(ws.blobServerFile, "utf8")) as { url: string }).url;
  return "local:";
}

/**
 * The blob store a commitment's URI names (an `http(s)` store) or the workspace's own, reading within `limits`
 * (size cap and deadline) when given: the URI is a contributor's choice.
 */
export function blobStoreForUri(
  ws: Workspace,
  uri: string,
  limits?: BlobFetchLimits,
  authorize?: BlobReadAuthorizer,
): BlobStore {
  if (/^https?:\/\//.test(uri)) return new HttpBlobStore(uri, limits ?? {}, authorize);
  if (existsSync(ws.blobServerFile)) {
    const { url } = JSON.parse(readFileSync(ws.blobServerFile, "utf8")) as { url: string };
    return new HttpBlobStore(url, limits ?? {}, authorize);
  }
  return new LocalDirectoryBlobStore(ws.blobsDir, limits?.maxBlobBytes);
}
