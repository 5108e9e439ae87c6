// Serves the production build of the web app (Vite preview) pointed at the app services, plus the app server's
// own endpoints: `GET /api/audit?round=N` runs `ciphershare audit --round N --json` and returns its verdict;
// `POST /api/relay-registration` submits a contributor's signed gasless registration from the relayer account;
// `POST /api/relay-claim` queues an anonymous claim that the relayer account sends in its next fixed-time batch;
// `POST /api/relay-forward` submits a royalty-token transfer or unwrap signed by a fresh payout address (ERC-2771).
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { isAddress, type Hex } from "viem";
import type { LocalAccount } from "viem/accounts";
import type { Plugin } from "vite" with { "resolution-mode": "import" };
import { chainReader, chainSigner, roleAccount } from "@ciphershare/coprocessor/chain/clients";
import { contractsFor } from "@ciphershare/coprocessor/chain/contracts";
import { claimForAddress } from "@ciphershare/coprocessor/roles/anonymous-payouts";
import { ClaimRelayer } from "@ciphershare/coprocessor/roles/claim-relayer";
import { FhevmClient } from "@ciphershare/coprocessor/chain/fhevmClient";
import { forwardRelayHandler, relayForward } from "@ciphershare/coprocessor/roles/forward-relayer";
import { ROLE_ACCOUNT } from "@ciphershare/coprocessor/roles/workspace";
import { ROOT, runCli, type AppServices } from "./services";

const FRONTEND = join(ROOT, "frontend");

/** What the web server needs of the app services: the chain, the blob store, the deployment and the workspace. */
export type WebAppBackend = Pick<AppServices, "rpcUrl" | "blobUrl" | "deployment" | "webDeploymentFile"> & {
  readonly ws: { readonly home: string };
};

export interface WebAppOptions {
  /** The account the relays (registration, claims, forwarded requests) send from; default development account 3. */
  readonly relayer?: LocalAccount;
  /** The claim relay's batch interval; default `CIPHERSHARE_RELAY_INTERVAL_MS`, else 60 s. */
  readonly relayIntervalMs?: number;
}

export interface ServedWebApp {
  readonly url: string;
  close(): Promise<void>;
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

/** Reads a small JSON request body (the relay takes a few hundred bytes). */
function readJsonBody(req: IncomingMessage, limit = 16_384): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
      if (body.length > limit) reject(new Error(`request body over ${limit} bytes`));
    });
    req.on("end", () => {
      try {
        resolvePromise(JSON.parse(body));
      } catch {
        reject(new Error("request body is not JSON"));
      }
    });
    req.on("error", reject);
  });
}

/**
 * `POST /api/relay-registration` `{ contributor, metadataURI, deadline, signature }`: the relayer account (development
 * account 3, as `contributor register --gasless`) submits `registerWithSignature` and pays the gas. The contract
 * checks the signature; the relay only forwards it.
 */
function relayEndpoint(services: WebAppBackend, account: LocalAccount): Plugin {
  const serve = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (new URL(req.url ?? "/", "http://app").pathname !== "/api/relay-registration") return next();
    if (req.method !== "POST") return sendJson(res, 405, { error: "POST a signed registration" });
    void (async () => {
      try {
        const body = (await readJsonBody(req)) as Record<string, unknown>;
        const { contributor, metadataURI, deadline, signature } = body;
        if (
          typeof contributor !== "string" ||
          !isAddress(contributor) ||
          typeof metadataURI !== "string" ||
          typeof deadline !== "string" ||
          !/^\d+$/.test(deadline) ||
          typeof signature !== "string" ||
          !/^0x[0-9a-fA-F]+$/.test(signature)
        ) {
          return sendJson(res, 400, {
            error: "expected { contributor, metadataURI, deadline (decimal), signature (hex) }",
          });
        }
        const reader = chainReader(services.rpcUrl, services.deployment.chainId);
        const relayer = chainSigner(reader, account);
        const hash = await contractsFor(services.deployment, relayer).rounds.write.registerWithSignature([
          contributor,
          metadataURI,
          BigInt(deadline),
          signature as Hex,
        ]);
        sendJson(res, 200, { hash });
      } catch (error) {
        const { shortMessage, message } = error as { shortMessage?: string; message?: string };
        sendJson(res, 502, { error: shortMessage ?? message ?? String(error) });
      }
    })();
  };
  return { name: "ciphershare-relay-endpoint", configurePreviewServer: (server) => void server.middlewares.use(serve) };
}

/**
 * The network's claim relayer: anonymous claims queued at `POST /api/relay-claim` leave from the relayer account
 * (development account 3) in batches at fixed times, every `intervalMs` (`CIPHERSHARE_RELAY_INTERVAL_MS`, default
 * 60 s). See coprocessor/src/roles/claim-relayer.ts.
 */
export function claimRelayer(
  services: WebAppBackend,
  intervalMs?: number,
  account: LocalAccount = roleAccount(ROLE_ACCOUNT.relayer),
): ClaimRelayer {
  const reader = chainReader(services.rpcUrl, services.deployment.chainId);
  const relayer = chainSigner(reader, account);
  return new ClaimRelayer({
    intervalMs: intervalMs ?? Number(process.env.CIPHERSHARE_RELAY_INTERVAL_MS ?? 60_000),
    submit: async ({ to, rounds }) => void (await claimForAddress(services.deployment, relayer, to, rounds)),
  });
}

function claimRelayEndpoint(relayer: ClaimRelayer): Plugin {
  return {
    name: "ciphershare-claim-relay-endpoint",
    configurePreviewServer: (server) => void server.middlewares.use(relayer.handle),
  };
}

/**
 * `POST /api/relay-forward`: a request signed by a fresh payout address (ERC-2771 `ForwardRequestData`) for the
 * royalty token's `confidentialTransfer` or `unwrap`, submitted through the forwarder from the relayer account;
 * an unwrap is finalized with the public decryption of its amount. See coprocessor/src/roles/forward-relayer.ts.
 */
function forwardRelayEndpoint(services: WebAppBackend, account: LocalAccount): Plugin {
  const reader = chainReader(services.rpcUrl, services.deployment.chainId);
  const relayer = chainSigner(reader, account);
  let fhevm: Promise<FhevmClient> | undefined;
  const handle = forwardRelayHandler(services.deployment.token, async (request) => {
    fhevm ??= FhevmClient.connect(services.rpcUrl);
    return relayForward(services.deployment, relayer, await fhevm, request);
  });
  return {
    name: "ciphershare-forward-relay-endpoint",
    configurePreviewServer: (server) => {
      server.middlewares.use(handle);
      server.httpServer?.once("close", () => void fhevm?.then((client) => client.destroy()));
    },
  };
}

/** Builds the app into `outDir` (default `frontend/dist`) and serves it on `port`, with the app server's endpoints. */
export async function serveWebApp(
  services: WebAppBackend,
  port: number,
  outDir?: string,
  options: WebAppOptions = {},
): Promise<ServedWebApp> {
  const relayerAccount = options.relayer ?? roleAccount(ROLE_ACCOUNT.relayer);
  const { build, preview } = await import("vite");
  const configFile = join(FRONTEND, "vite.config.mts");
  const output = outDir === undefined ? {} : { outDir, emptyOutDir: true };
  await build({ configFile, root: FRONTEND, logLevel: "warn", build: output });
  // The preview server answers /ciphershare-config.json from these (frontend/vite.config.mts).
  process.env.CIPHERSHARE_RPC_URL = services.rpcUrl;
  process.env.CIPHERSHARE_CHAIN_ID = "31337";
  process.env.CIPHERSHARE_COPROCESSOR_URL = services.blobUrl;
  process.env.CIPHERSHARE_DEPLOYMENT = services.webDeploymentFile;
  const relayer = claimRelayer(services, options.relayIntervalMs, relayerAccount);
  relayer.start();
  const server = await preview({
    configFile,
    root: FRONTEND,
    logLevel: "warn",
    plugins: [
      auditEndpoint(services.ws.home),
      relayEndpoint(services, relayerAccount),
      claimRelayEndpoint(relayer),
      forwardRelayEndpoint(services, relayerAccount),
    ],
    build: output,
    preview: { host: "127.0.0.1", port, strictPort: true, open: false },
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      relayer.stop();
      await server.close();
    },
  };
}
