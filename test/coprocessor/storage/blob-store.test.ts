import { expect } from "chai";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import {
  BlobIntegrityError,
  BlobNotFoundError,
  BlobTooLargeError,
  type BlobStore,
} from "@ciphershare/coprocessor/storage/blob-store";
import { BlobServerError, HttpBlobStore } from "@ciphershare/coprocessor/storage/http-client";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { startBlobServer, type RunningBlobServer } from "@ciphershare/coprocessor/storage/http-server";
import { rejectionOf } from "../../support/rejection";

const LIMIT = 64 * 1024;

describe("content-addressed blob store", () => {
  let directory: string;
  let local: LocalDirectoryBlobStore;
  let server: RunningBlobServer;
  let remote: HttpBlobStore;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), "ciphershare-blobs-"));
    local = new LocalDirectoryBlobStore(directory, LIMIT);
    server = await startBlobServer(local, { allowedOrigins: ["http://localhost:5173"] });
    remote = new HttpBlobStore(server.url, 10 * LIMIT);
  });

  after(async () => {
    await server?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  for (const [name, store] of [
    ["local directory", () => local],
    ["HTTP client → server", () => remote],
  ] as const) {
    describe(name, () => {
      it("puts bytes under their keccak256 and gets them back verified", async () => {
        const s: BlobStore = store();
        const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13 + name.length) & 0xff);
        const hash = await s.put(bytes);
        expect(hash).to.equal(await keccak256(bytes));
        expect(await s.put(bytes)).to.equal(hash);
        expect(await s.has(hash)).to.equal(true);
        expect(await s.get(hash)).to.deep.equal(bytes);
        expect(await s.get(hash.toUpperCase().replace("0X", "0x") as `0x${string}`)).to.deep.equal(bytes);
      });

      it("reports missing blobs, malformed hashes and oversize blobs", async () => {
        const s: BlobStore = store();
        const missing = `0x${"00".repeat(32)}` as const;
        expect(await s.has(missing)).to.equal(false);
        await rejectionOf(s.get(missing), BlobNotFoundError);
        await rejectionOf(s.get("0x1234" as `0x${string}`), InvalidInputError);
        await rejectionOf(s.put(new Uint8Array(LIMIT + 1)), BlobTooLargeError);
      });
    });
  }

  it("detects a blob altered on disk, locally and through HTTP", async () => {
    const bytes = Uint8Array.of(1, 2, 3, 4);
    const hash = await local.put(bytes);
    const file = join(directory, hash.slice(2, 4), hash.slice(2));
    writeFileSync(file, Uint8Array.of(1, 2, 3, 5));
    await rejectionOf(local.get(hash), BlobIntegrityError);
    await rejectionOf(remote.get(hash), BlobServerError);
    writeFileSync(file, bytes);
    expect(await remote.get(hash)).to.deep.equal(bytes);
  });

  it("answers raw HTTP with status codes, CORS for allowed origins and a 413 above the limit", async () => {
    const upload = await fetch(`${server.url}/blobs`, {
      method: "POST",
      body: Uint8Array.of(9, 9, 9),
      headers: { Origin: "http://localhost:5173" },
    });
    expect(upload.status).to.equal(201);
    expect(upload.headers.get("access-control-allow-origin")).to.equal("http://localhost:5173");
    const { hash, size } = (await upload.json()) as { hash: string; size: number };
    expect(size).to.equal(3);
    const download = await fetch(`${server.url}/blobs/${hash}`, { headers: { Origin: "http://evil.example" } });
    expect(download.status).to.equal(200);
    expect(download.headers.get("access-control-allow-origin")).to.equal(null);
    expect(new Uint8Array(await download.arrayBuffer())).to.deep.equal(Uint8Array.of(9, 9, 9));
    expect((await fetch(`${server.url}/blobs/nothex`)).status).to.equal(400);
    expect((await fetch(`${server.url}/elsewhere`)).status).to.equal(404);
    expect((await fetch(`${server.url}/blobs`, { method: "DELETE" })).status).to.equal(405);
    const tooLarge = await fetch(`${server.url}/blobs`, { method: "POST", body: new Uint8Array(LIMIT + 1) });
    expect(tooLarge.status).to.equal(413);
    // A chunked upload without Content-Length is cut off while streaming.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(LIMIT / 2));
        controller.close();
      },
    });
    const streamed = await fetch(`${server.url}/blobs`, {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).to.equal(413);
    expect(readdirSync(directory).some((name) => name.endsWith(".tmp"))).to.equal(false);
  });

  it("only listens on loopback by default", () => {
    expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
