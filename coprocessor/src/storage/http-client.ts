import { CipherShareError } from "@ciphershare/protocol/errors";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import {
  assertBlobSize,
  BlobIntegrityError,
  BlobNotFoundError,
  BlobTooLargeError,
  normalizeBlobHash,
  verifyBlob,
  type BlobStore,
} from "./blob-store";

/** The blob server could not be reached or answered something unexpected. */
export class BlobServerError extends CipherShareError {
  override name = "BlobServerError";
}

/**
 * A `BlobStore` backed by a `startBlobServer` endpoint, over `fetch` (so it also runs in browsers).
 * Nothing the server says is trusted: put checks the returned hash, get re-hashes the bytes.
 */
export class HttpBlobStore implements BlobStore {
  private readonly base: string;

  constructor(
    baseUrl: string,
    readonly maxBlobBytes: number = 2 ** 30,
  ) {
    this.base = baseUrl.replace(/\/+$/, "");
  }

  async put(bytes: Uint8Array): Promise<Hex> {
    assertBlobSize(bytes.length, this.maxBlobBytes);
    const expected = await keccak256(bytes);
    const response = await this.request(`${this.base}/blobs`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
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
    const response = await this.request(`${this.base}/blobs/${name}`, { method: "GET" });
    if (response.status === 404)
      throw new BlobNotFoundError("No blob with this hash on the server.", { details: name });
    if (response.status !== 200) throw await unexpected(response, "download");
    const declared = Number(response.headers.get("content-length") ?? NaN);
    if (declared > this.maxBlobBytes) {
      await response.body?.cancel();
      throw new BlobTooLargeError("The server offered a blob above the limit.", { details: `${declared} bytes` });
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    assertBlobSize(bytes.length, this.maxBlobBytes);
    return verifyBlob(name, bytes, this.base);
  }

  async has(hash: Hex): Promise<boolean> {
    const response = await this.request(`${this.base}/blobs/${normalizeBlobHash(hash)}`, { method: "HEAD" });
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await unexpected(response, "check");
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    // Every request is idempotent (content-addressed), so a network failure is retried: on a loaded machine a
    // keep-alive socket the server has just closed may be reused (the likely cause of the failures seen), and fetch
    // fails without reaching it.
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(url, init);
      } catch (error) {
        if (attempt >= 3) throw new BlobServerError("Cannot reach the blob server.", { details: url, cause: error });
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }
}

async function unexpected(response: Response, action: string): Promise<BlobServerError> {
  const text = (await response.text().catch(() => "")).slice(0, 200);
  return new BlobServerError(`The blob server failed the ${action}.`, { details: `HTTP ${response.status}: ${text}` });
}
