// Serves the production build of the web app (Vite preview) pointed at the app services, plus the app server's
// own endpoint: `GET /api/audit?round=N` runs `ciphershare audit --round N --json` and returns its verdict.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Plugin } from "vite" with { "resolution-mode": "import" };
import { ROOT, runCli, type AppServices } from "./services";

const FRONTEND = join(ROOT, "frontend");

export interface ServedWebApp {
  readonly url: string;
  close(): Promise<void>;
}

/** A free TCP port on loopback (bound, then released). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      server.close(() => resolvePromise(address.port));
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Cache-Control", "no-store");
  res.end(JSON.stringify(body));
}

/**
 * `/api/audit?round=N`: the auditor's JSON verdict (it re-runs FedAvg and Shapley, so it takes a while; one run
 * per round at a time, and a passed verdict is kept).
 */
function auditEndpoint(home: string): Plugin {
  const verdicts = new Map<number, Promise<unknown>>();
  const serve = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const url = new URL(req.url ?? "/", "http://app");
    if (url.pathname !== "/api/audit") return next();
    const round = Number(url.searchParams.get("round"));
    if (!Number.isSafeInteger(round) || round < 1) {
      return sendJson(res, 400, { error: `round must be a round id ≥ 1, got ${url.searchParams.get("round")}` });
    }
    let verdict = verdicts.get(round);
    if (verdict === undefined) {
      verdict = runCli(home, ["audit", "--round", String(round)], true);
      verdicts.set(round, verdict);
      verdict.then(
        (value) => {
          if ((value as { passed?: boolean } | null)?.passed !== true) verdicts.delete(round);
        },
        () => verdicts.delete(round),
      );
    }
    verdict.then(
      (value) => sendJson(res, 200, value),
      (error: unknown) => sendJson(res, 502, { error: error instanceof Error ? error.message : String(error) }),
    );
  };
  return { name: "ciphershare-audit-endpoint", configurePreviewServer: (server) => void server.middlewares.use(serve) };
}

export async function serveWebApp(services: AppServices, port: number): Promise<ServedWebApp> {
  const { build, preview } = await import("vite");
  const configFile = join(FRONTEND, "vite.config.mts");
  await build({ configFile, root: FRONTEND, logLevel: "warn" });
  // The preview server answers /ciphershare-config.json from these (frontend/vite.config.mts).
  process.env.CIPHERSHARE_RPC_URL = services.rpcUrl;
  process.env.CIPHERSHARE_CHAIN_ID = "31337";
  process.env.CIPHERSHARE_COPROCESSOR_URL = services.blobUrl;
  process.env.CIPHERSHARE_DEPLOYMENT = services.webDeploymentFile;
  const server = await preview({
    configFile,
    root: FRONTEND,
    logLevel: "warn",
    plugins: [auditEndpoint(services.ws.home)],
    preview: { host: "127.0.0.1", port, strictPort: true, open: false },
  });
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}
