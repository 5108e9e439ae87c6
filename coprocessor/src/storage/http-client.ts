import { CipherShareError, InvalidInputError } from "@ciphershare/protocol/errors";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { BLOB_ROUND_HEADER, BlobAccessDeniedError } from "./blob-access";
import {
  assertBlobSize,
  BlobIntegrityError,
  BlobNotFoundError,
  BlobTooLargeError,
  normalizeBlobHash,
  verifyBlob,
  type BlobPutOptions,
  type BlobStore,
} from "./blob-store";

/** The blob server could not be reached, cut the connection or answered something unexpected. */
export class BlobServerError extends CipherShareError {
  override name = "BlobServerError";
}

/** The blob server did not finish answering within the request's time limit. */
export class BlobTimeoutError extends BlobServerError {
  override name = "BlobTimeoutError";
}

/** 10 minutes: a 272 MB public bundle over a slow link; contribution fetches pass a tighter limit. */
export const DEFAULT_BLOB_TIMEOUT_MS = 600_000;

export interface HttpBlobStoreOptions {
  /** Largest blob accepted, in bytes: a larger declared `Content-Length` is refused unread, a longer body is cut. */
  readonly maxBlobBytes?: number;
  /** Whole-request deadline (headers and body), in milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * A `BlobStore` backed by a `startBlobServer` endpoint, over `fetch` (so it also runs in browsers).
 * Nothing the server says is trusted: put checks the returned hash, get re-hashes the bytes. Every request has a
 * deadline, and a download is read as a stream and abandoned as soon as it passes `maxBlobBytes`, whatever the
 * server declared, so a hostile server (a huge body, a cut connection, no answer) costs a bounded time and memory
 * and ends in a `BlobServerError`, `BlobTimeoutError` or `BlobTooLargeError`.
 */
export class HttpBlobStore implements BlobStore {
  private readonly base: string;
  readonly maxBlobBytes: number;
  readonly timeoutMs: number;

  /**
   * @param authorize Signed-request headers for reading `hash` (blob-access.ts `blobRequestSigner`): what a round's
   * coprocessor and custodians send to read its contributions.
   */
  constructor(
    baseUrl: string,
    options: HttpBlobStoreOptions | number = {},
    private readonly authorize?: (hash: Hex) => Promise<Record<string, string>>,
  ) {
    const { maxBlobBytes = 2 ** 30, timeoutMs = DEFAULT_BLOB_TIMEOUT_MS } =
      typeof options === "number" ? { maxBlobBytes: options } : options;
    if (!(maxBlobBytes > 0) || !(timeoutMs > 0)) {
      throw new InvalidInputError("A blob store's size and time limits must be positive.", {
        details: `maxBlobBytes ${maxBlobBytes}, timeoutMs ${timeoutMs}`,
      });
    }
    this.base = baseUrl.replace(/\/+$/, "");
    this.maxBlobBytes = maxBlobBytes;
    this.timeoutMs = timeoutMs;
  }

  async put(bytes: Uint8Array, options: BlobPutOptions = {}): Promise<Hex> {
    assertBlobSize(bytes.length, this.maxBlobBytes);
    const expected = await keccak256(bytes);
    const response = await this.request(`${this.base}/blobs`, {
      method: "POST",
      headers: {
        "Content-Type": "application/octet-stream",
        ...(options.round === undefined ? {} : { [BLOB_ROUND_HEADER]: `${options.round}` }),
      },
      // A Uint8Array over a plain ArrayBuffer is a BodyInit; the DOM lib's typing wants the narrower buffer type.
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    if (response.status === 413) {
      throw new BlobTooLargeError("The blob server refused the blob as too large.", {
        details: `${bytes.length} bytes`,
      });
    }
    if (response.status !== 201) throw await unexpected(response, "upload");
    const { hash } = (await response.json()) as { hash?: string };
    if (typeof hash !== "string" || !sameHash(hash, expected)) {
      throw new BlobIntegrityError("The blob server stored the bytes under another hash.", {
        details: `server ${hash}, local ${expected}`,
      });
    }
    return expected;
  }

  async get(hash: Hex): Promise<Uint8Array> {
    const name = normalizeBlobHash(hash);
    const url = `${this.base}/blobs/${name}`;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.timeoutMs);
    try {
      const response = await this.request(url, {
        method: "GET",
        headers: await this.authorize?.(name),
        signal: deadline.signal,
      });
      if (response.status === 401 || response.status === 403) throw await denied(response, name);
      if (response.status === 404) {
        await response.body?.cancel().catch(() => {});
        throw new BlobNotFoundError("No blob with this hash on the server.", { details: name });
      }
      if (response.status !== 200) throw await unexpected(response, "download");
      const declared = Number(response.headers.get("content-length") ?? NaN);
      if (declared > this.maxBlobBytes) {
        await response.body?.cancel().catch(() => {});
        throw new BlobTooLargeError("The server offered a blob above the limit.", {
          details: `${declared} bytes declared, limit ${this.maxBlobBytes}`,
        });
      }
      const bytes = await this.readCapped(response, url, deadline.signal);
      return await verifyBlob(name, bytes, this.base);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads a body chunk by chunk, cancelling it as soon as it passes the limit or the deadline passes. */
  private async readCapped(response: Response, url: string, signal: AbortSignal): Promise<Uint8Array> {
    if (response.body === null) return new Uint8Array();
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let length = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        length += value.length;
        if (length > this.maxBlobBytes) {
          await reader.cancel().catch(() => {});
          throw new BlobTooLargeError("The server sent more bytes than the limit.", {
            details: `more than ${this.maxBlobBytes} bytes from ${url}`,
          });
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof BlobTooLargeError) throw error;
      throw this.failure(error, signal, url, `the download broke off after ${length} bytes`);
    }
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }

  async has(hash: Hex): Promise<boolean> {
    const name = normalizeBlobHash(hash);
    const response = await this.request(`${this.base}/blobs/${name}`, {
      method: "HEAD",
      headers: await this.authorize?.(name),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (response.status === 401 || response.status === 403) throw await denied(response, name);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await unexpected(response, "check");
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    const signal = init.signal ?? AbortSignal.timeout(this.timeoutMs);
    // Every request is idempotent (content-addressed), so a network failure is retried: on a loaded machine a
    // keep-alive socket the server has just closed may be reused, and fetch fails without reaching it. A deadline
    // that has passed is never retried.
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(url, { ...init, signal });
      } catch (error) {
        if (signal.aborted || attempt >= 3) throw this.failure(error, signal, url, "cannot reach the blob server");
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  private failure(error: unknown, signal: AbortSignal, url: string, what: string): BlobServerError {
    if (signal.aborted) {
      return new BlobTimeoutError(`The blob server did not answer within ${this.timeoutMs} ms.`, {
        details: url,
        cause: error,
      });
    }
    return new BlobServerError(`The blob request failed: ${what}.`, { details: url, cause: error });
  }
}

async function denied(response: Response, hash: Hex): Promise<BlobAccessDeniedError> {
  const text = await firstBytes(response);
  return new BlobAccessDeniedError(
    response.status as 401 | 403,
    "The blob server refused to serve a restricted blob.",
    {
      details: `${hash}: HTTP ${response.status} ${text}`,
    },
  );
}

/** The server's error, with at most the first 200 bytes of its body (a hostile body is never read whole). */
async function unexpected(response: Response, action: string): Promise<BlobServerError> {
  const text = await firstBytes(response);
  return new BlobServerError(`The blob server failed the ${action}.`, { details: `HTTP ${response.status}: ${text}` });
}

/** At most the first 200 bytes of a response body as text (a hostile body is never read whole). */
async function firstBytes(response: Response): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const first = await reader.read().catch(() => ({ value: undefined }));
  await reader.cancel().catch(() => {});
  return first.value === undefined ? "" : new TextDecoder().decode(first.value.subarray(0, 200));
}
