import type { Command } from "commander";
import { startEmbeddedNetwork } from "@ciphershare/coprocessor/roles/embedded-network";
import { DEFAULT_HOME } from "@ciphershare/coprocessor/roles/workspace";
import { parseInteger } from "../roleContext";

/** `ciphershare node start`: the embedded default — a local fhEVM chain and the blob store's HTTP server. */
export function register(program: Command): void {
  const node = program.command("node").description("Run the embedded local chain (fhEVM mock) and blob store.");
  node
    .command("start")
    .description("Start a Hardhat node with the fhEVM mock on loopback and the blob server; stop with Ctrl-C.")
    .option("--home <dir>", "workspace directory", DEFAULT_HOME)
    .option("--port <port>", "chain port (0 = any free port)", "0")
    .option("--blob-port <port>", "blob server port (0 = any free port)", "0")
    .action(async (options: { home: string; port: string; blobPort: string }) => {
      const network = await startEmbeddedNetwork(options.home, {
        port: parseInteger(options.port, "--port"),
        blobPort: parseInteger(options.blobPort, "--blob-port"),
      });
      const { chain, blobs, ws } = network;
      process.stdout.write(`${JSON.stringify({ rpcUrl: chain.rpcUrl, blobUrl: blobs.url, home: ws.home })}\n`);
      const stop = async () => {
        await network.stop();
        process.exit(0);
      };
      process.on("SIGINT", () => void stop());
      process.on("SIGTERM", () => void stop());
      await new Promise(() => {});
    });
}
