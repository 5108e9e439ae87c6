import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CipherShareError, InvalidInputError } from "@ciphershare/protocol/errors";
import { BLOB_REQUEST_HEADERS, BLOB_ROUND_HEADER, BlobAccessDeniedError, type BlobAccessCheck } from "./blob-access";
import { BlobNotFoundError, BlobTooLargeError, normalizeBlobHash, type BlobStore } from "./blob-store";

export interface BlobHttpServerOptions {
  /** Default 127.0.0.1: the store is for this machine unless deliberately exposed. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Origins allowed by CORS (the web app uploads from the browser); default none. */
  readonly allowedOrigins?: readonly string[];
  /** Read access control (blob-access.ts): contributions only to signed requests of their round's readers. */
  readonly access?: BlobAccessCheck;
}

export interface RunningBlobServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * HTTP front end of a blob store:
 * - `POST /blobs` with the bytes as body → 201 `{"hash":"0x…","size":n}`; 413 above the store's limit. With the header
 *   `x-ciphershare-round: N` new bytes are stored as restricted to round N's readers (`BlobPutOptions.round`).
 * - `GET /blobs/<hash>` → 200 bytes (`application/octet-stream`), 404 when absent; `HEAD` likewise.
 * The size limit is enforced while streaming, before the body is buffered whole.
 */
export async function startBlobServer(
  store: BlobStore,
  options: BlobHttpServerOptions = {},
): Promise<RunningBlobServer> {
  const server = createServer((request, response) => {
    handle(store, options, request, response).catch((error: unknown) => {
      sendError(response, error);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  store: BlobStore,
  options: BlobHttpServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const origin = request.headers.origin;
  if (origin && options.allowedOrigins?.includes(origin)) {
    response.setHeader("Access-Control-Allow-Origin", origin);
    response.setHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
    response.setHeader(
      "Access-Control-Allow-Headers",
      ["Content-Type", BLOB_ROUND_HEADER, ...Object.values(BLOB_REQUEST_HEADERS)].join(", "),
    );
    response.setHeader("Vary", "Origin");
  }
  const url = new URL(request.url ?? "/", "http://localhost");
  if (request.method === "OPTIONS") {
    response.writeHead(204).end();
    return;
  }
  if (url.pathname === "/blobs" && request.method === "POST") {
    const round = request.headers[BLOB_ROUND_HEADER];
    if (round !== undefined && (typeof round !== "string" || !/^[1-9][0-9]{0,39}$/.test(round))) {
      throw new InvalidInputError("The round a blob is restricted to must be a positive integer.", {
        details: `${BLOB_ROUND_HEADER}: ${String(round).slice(0, 80)}`,
      });
    }
    const bytes = await readBody(request, store.maxBlobBytes);
    const hash = await store.put(bytes, round === undefined ? {} : { round: BigInt(round) });
    sendJson(response, 201, { hash, size: bytes.length });
    return;
  }
  const match = /^\/blobs\/([^/]+)$/.exec(url.pathname);
  if (match && (request.method === "GET" || request.method === "HEAD")) {
    const hash = normalizeBlobHash(match[1]);
    await options.access?.check(hash, request.headers);
    const bytes = await store.get(hash);
    response.writeHead(200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": bytes.length,
      "Cache-Control": "public, max-age=31536000, immutable",
      ETag: `"${hash}"`,
    });
    response.end(request.method === "HEAD" ? undefined : bytes);
    return;
  }
  sendJson(response, match || url.pathname === "/blobs" ? 405 : 404, { error: "Not found or method not allowed." });
}

/** Reads a request body, failing with `BlobTooLargeError` as soon as it passes `limit` bytes. */
function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers["content-length"] ?? NaN);
  if (declared > limit) {
    request.resume();
    return Promise.reject(
      new BlobTooLargeError("The blob is larger than the store accepts.", { details: `${declared} > ${limit} bytes` }),
    );
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    request.on("data", (part: Buffer) => {
      size += part.length;
      if (size > limit) {
        request.removeAllListeners("data");
        request.resume();
        reject(new BlobTooLargeError("The blob is larger than the store accepts.", { details: `> ${limit} bytes` }));
        return;
      }
      parts.push(part);
    });
    request.on("end", () => {
      if (size <= limit) resolve(new Uint8Array(Buffer.concat(parts, size)));
    });
    request.on("error", reject);
  });
}

function sendError(response: ServerResponse, error: unknown): void {
  const status =
    error instanceof BlobAccessDeniedError
      ? error.status
      : error instanceof BlobTooLargeError
        ? 413
        : error instanceof BlobNotFoundError
          ? 404
          : error instanceof InvalidInputError
            ? 400
            : 500;
  const message = error instanceof CipherShareError ? error.shortMessage : "Internal error.";
  if (status === 413) response.setHeader("Connection", "close");
  if (!response.headersSent) sendJson(response, status, { error: message });
  else response.destroy();
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}
