import { join } from "node:path";
import { build, preview, type PreviewServer } from "vite";
import { freePort, REPO_ROOT } from "./processes";

const FRONTEND = join(REPO_ROOT, "frontend");

export interface ServedApp {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Builds the app for production and serves it with Vite's preview server on a free loopback port,
 * pointed at `rpcUrl` through the runtime configuration.
 */
export async function buildAndServeApp(rpcUrl: string): Promise<ServedApp> {
  const configFile = join(FRONTEND, "vite.config.mts");
  await build({ configFile, root: FRONTEND, logLevel: "warn" });
  // The preview server reads these per request (see vite.config.mts).
  process.env.CIPHERSHARE_RPC_URL = rpcUrl;
  process.env.CIPHERSHARE_CHAIN_ID = "31337";
  const port = await freePort();
  const server: PreviewServer = await preview({
    configFile,
    root: FRONTEND,
    logLevel: "warn",
    preview: { host: "127.0.0.1", port, strictPort: true, open: false },
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => server.close(),
  };
}
