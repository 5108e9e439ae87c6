import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { LocalNode } from "./localNode";
import { assertRelayerMetadata, type RelayerMetadata } from "./relayerMetadata";

/** The variable every role process reads the chain's URL from (also hardhat.config.ts's `localhost`). */
export const RPC_URL_ENV = "CIPHERSHARE_RPC_URL";

/** Where the running chain is, as the network process publishes it for the other role processes. */
export interface LocalNodeInfo {
  rpcUrl: string;
  chainId: number;
  /** Process id of the `hardhat node` child (not of the process that started it). */
  pid: number;
  fhevm: RelayerMetadata;
}

/** Writes the node's info as JSON, atomically (temp file + rename), so a reader never sees half a file. */
export function writeNodeInfo(path: string, node: LocalNode | LocalNodeInfo): void {
  const info: LocalNodeInfo = { rpcUrl: node.rpcUrl, chainId: node.chainId, pid: node.pid, fhevm: node.fhevm };
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(temporary, path);
}

export function readNodeInfo(path: string): LocalNodeInfo {
  if (!existsSync(path)) {
    throw new InvalidInputError("No local chain info file: is the network process running?", { details: path });
  }
  const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<LocalNodeInfo>;
  if (typeof parsed.rpcUrl !== "string" || typeof parsed.chainId !== "number" || typeof parsed.pid !== "number") {
    throw new InvalidInputError("The local chain info file is malformed.", { details: path });
  }
  return {
    rpcUrl: parsed.rpcUrl,
    chainId: parsed.chainId,
    pid: parsed.pid,
    fhevm: assertRelayerMetadata(parsed.fhevm),
  };
}

export function removeNodeInfo(path: string): void {
  rmSync(path, { force: true });
}

/**
 * The chain a role process should talk to: an explicit URL (a CLI flag) first, then $CIPHERSHARE_RPC_URL,
 * then the info file the network process wrote.
 */
export function resolveRpcUrl(options: { rpcUrl?: string; infoFile?: string }): string {
  const url =
    options.rpcUrl ??
    process.env[RPC_URL_ENV] ??
    (options.infoFile ? readNodeInfo(options.infoFile).rpcUrl : undefined);
  if (url === undefined) {
    throw new InvalidInputError("No chain to talk to.", {
      details: `pass an RPC URL, set ${RPC_URL_ENV}, or start the network process with an info file`,
    });
  }
  return url;
}
