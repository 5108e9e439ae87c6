import { join } from "node:path";
import { build, createServer, preview, type PreviewServer } from "vite";
import { freeLoopbackPort } from "@ciphershare/coprocessor/process/ports";
import { REPO_ROOT } from "./repo";

const FRONTEND = join(REPO_ROOT, "frontend");

export interface ServedApp {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Builds the app for production and serves it with Vite's preview server on a free loopback port,
 * pointed at `rpcUrl` through the runtime configuration.
 */
export async function buildAndServeApp(rpcUrl: string, entry?: { html: string; outDir: string }): Promise<ServedApp> {
  const configFile = join(FRONTEND, "vite.config.mts");
  // A test page (entry.html) is built on its own into entry.outDir, never into the app's dist/.
  const buildOptions = entry
    ? { outDir: entry.outDir, emptyOutDir: true, rollupOptions: { input: join(FRONTEND, entry.html) } }
    : {};
  await build({ configFile, root: FRONTEND, logLevel: "warn", build: buildOptions });
  pointAt(rpcUrl);
  const port = await freeLoopbackPort();
  const server: PreviewServer = await preview({
    configFile,
    root: FRONTEND,
    logLevel: "warn",
    build: entry ? { outDir: entry.outDir } : {},
    preview: { host: "127.0.0.1", port, strictPort: true, open: false },
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => server.close(),
  };
}

/** Serves the sources with Vite's dev server (on-demand transforms, no bundle), as `npm run app:dev` does. */
export async function serveAppForDevelopment(rpcUrl: string): Promise<ServedApp> {
  pointAt(rpcUrl);
  const port = await freeLoopbackPort();
  const server = await createServer({
    configFile: join(FRONTEND, "vite.config.mts"),
    root: FRONTEND,
    logLevel: "warn",
    server: { host: "127.0.0.1", port, strictPort: true, hmr: false, open: false },
  });
  await server.listen();
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** The dev and preview servers read these per request (see vite.config.mts). */
function pointAt(rpcUrl: string): void {
  process.env.CIPHERSHARE_RPC_URL = rpcUrl;
  process.env.CIPHERSHARE_CHAIN_ID = "31337";
}
