/*
 * The "network" role as a process: starts the local fhEVM chain, publishes where it is, and keeps it up
 * until SIGINT/SIGTERM (or until this process dies, which takes the chain down with it).
 *
 *   npx tsx coprocessor/src/chain/nodeMain.ts [--port 8545] [--info-file .ciphershare/node.json]
 *
 * Prints one JSON line `{"rpcUrl": …, "chainId": …, "pid": …}` on stdout once the chain is ready.
 */
import { parseArgs } from "node:util";

import { CipherShareError } from "@ciphershare/protocol/errors";
import { startLocalNode } from "./localNode";
import { removeNodeInfo, writeNodeInfo } from "./nodeInfo";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: "string", default: "0" }, "info-file": { type: "string" } },
  });
  const infoFile = values["info-file"];
  const node = await startLocalNode({ port: Number(values.port) });
  if (infoFile !== undefined) writeNodeInfo(infoFile, node);
  console.log(JSON.stringify({ rpcUrl: node.rpcUrl, chainId: node.chainId, pid: node.pid }));

  const shutdown = async () => {
    if (infoFile !== undefined) removeNodeInfo(infoFile);
    await node.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown());
  process.once("SIGTERM", () => void shutdown());
}

main().catch((error: unknown) => {
  console.error(error instanceof CipherShareError ? error.message : error);
  process.exit(1);
});
