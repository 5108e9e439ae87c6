import type { Command } from "commander";
import { startLocalNode } from "@ciphershare/coprocessor/chain/localNode";
import { removeNodeInfo, writeNodeInfo } from "@ciphershare/coprocessor/chain/nodeInfo";
import { openWorkspace, writeJsonFile } from "@ciphershare/coprocessor/roles/workspace";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { startBlobServer } from "@ciphershare/coprocessor/storage/http-server";
import { rmSync } from "node:fs";
import { parseInteger } from "../roleContext";

/** `ciphershare node start`: the embedded default — a local fhEVM chain and the blob store's HTTP server. */
export function register(program: Command): void {
  const node = program.command("node").description("Run the embedded local chain (fhEVM mock) and blob store.");
  node
    .command("start")
    .description("Start a Hardhat node with the fhEVM mock on loopback and the blob server; stop with Ctrl-C.")
    .option("--home <dir>", "workspace directory", ".ciphershare")
    .option("--port <port>", "chain port (0 = any free port)", "0")
    .option("--blob-port <port>", "blob server port (0 = any free port)", "0")
    .action(async (options: { home: string; port: string; blobPort: string }) => {
      const ws = openWorkspace(options.home);
      const chain = await startLocalNode({ port: parseInteger(options.port, "--port") });
      const blobs = await startBlobServer(new LocalDirectoryBlobStore(ws.blobsDir), {
        port: parseInteger(options.blobPort, "--blob-port"),
      });
      writeNodeInfo(ws.nodeInfoFile, chain);
      writeJsonFile(ws.blobServerFile, { url: blobs.url });
      process.stdout.write(`${JSON.stringify({ rpcUrl: chain.rpcUrl, blobUrl: blobs.url, home: ws.home })}\n`);
      const stop = async () => {
        removeNodeInfo(ws.nodeInfoFile);
        rmSync(ws.blobServerFile, { force: true });
        await blobs.close();
        await chain.stop();
        process.exit(0);
      };
      process.on("SIGINT", () => void stop());
      process.on("SIGTERM", () => void stop());
      await new Promise(() => {});
    });
}
