import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const RUNTIME_CONFIG_PATH = "/ciphershare-config.json";
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

// node-seal finds its .wasm next to its own module; once bundled that guess is wrong, so the worker
// imports the binary as an asset (`import url from "node-seal-wasm?url"`) and hands the URL over.
const SEAL_WASM = fileURLToPath(new URL("seal_throws.wasm", import.meta.resolve("node-seal")));

/**
 * Serves the runtime configuration from the environment of the dev/preview server, so one build
 * runs against a chain on any port: CIPHERSHARE_RPC_URL, CIPHERSHARE_CHAIN_ID,
 * CIPHERSHARE_COPROCESSOR_URL, CIPHERSHARE_DEPLOYMENT (a JSON file { contracts: { Name: address } }).
 */
function runtimeConfig(): Plugin {
  const serve = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (req.url?.split("?")[0] !== RUNTIME_CONFIG_PATH) return next();
    const env = process.env;
    let contracts: Record<string, string> = {};
    if (env.CIPHERSHARE_DEPLOYMENT) {
      const deployment = JSON.parse(readFileSync(env.CIPHERSHARE_DEPLOYMENT, "utf8")) as {
        contracts?: Record<string, string>;
      };
      contracts = deployment.contracts ?? {};
    }
    const body = {
      rpcUrl: env.CIPHERSHARE_RPC_URL ?? "http://127.0.0.1:8545",
      chainId: env.CIPHERSHARE_CHAIN_ID ? Number(env.CIPHERSHARE_CHAIN_ID) : 31337,
      coprocessorUrl: env.CIPHERSHARE_COPROCESSOR_URL ?? null,
      contracts,
    };
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Cache-Control", "no-store");
    res.end(JSON.stringify(body));
  };
  return {
    name: "ciphershare-runtime-config",
    configureServer: (server) => void server.middlewares.use(serve),
    configurePreviewServer: (server) => void server.middlewares.use(serve),
  };
}

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react(), runtimeConfig()],
  resolve: {
    alias: [
      { find: /^node-seal-wasm(\?.*)?$/, replacement: `${SEAL_WASM}$1` },
      // fhEVM's mock client imports the SDK's Node build (key pair, EIP-712); the web build has the
      // same exports over browser WASM.
      { find: /^@zama-fhe\/relayer-sdk\/node$/, replacement: "@zama-fhe/relayer-sdk/web" },
    ],
  },
  optimizeDeps: { exclude: ["node-seal"] },
  worker: { format: "es" },
  // The entry chunk is React + wagmi + viem (~640 kB, ~200 kB gzipped); pages past Connect load lazily.
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 700 },
  server: {
    host: "127.0.0.1",
    // node_modules may be a symlink to a shared folder (git worktrees); the dev server must still serve files a
    // package fetches at run time (the relayer SDK's .wasm), which live under its real path.
    fs: { allow: [REPO_ROOT, realpathSync(new URL("../node_modules", import.meta.url))] },
  },
  preview: { host: "127.0.0.1" },
});
