// @vitest-environment node
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeBundleManifest } from "@ciphershare/protocol/ckks/bundle-manifest";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { startBlobServer, type RunningBlobServer } from "@ciphershare/coprocessor/storage/http-server";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { fetchKeyBundle, KeyBundleError } from "../../src/contribute/keyBundle";
import { freeLoopbackPort } from "@ciphershare/coprocessor/process/ports";

describe("fetchKeyBundle against the coprocessor's blob server", () => {
  const dir = mkdtempSync(join(tmpdir(), "ciphershare-keybundle-"));
  // The contributor's half: any bytes will do here (the worker parses them); the manifest names them by hash.
  const bundle = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const evaluation = Uint8Array.from({ length: 5000 }, (_, i) => i % 13);
  let manifest: Uint8Array;
  let server: RunningBlobServer;
  let lying: Server;
  let lyingUrl: string;

  beforeAll(async () => {
    const store = new LocalDirectoryBlobStore(dir);
    manifest = serializeBundleManifest({
      parameterSetId: "deep-v2",
      encryptionHash: await store.put(bundle),
      evaluationHash: await keccak256(evaluation),
    });
    await store.put(manifest);
    server = await startBlobServer(store);
    // A coprocessor that serves other bytes than asked for: the hash check is what catches it.
    lying = createServer((_request, response) => response.end(Buffer.from("a different key")));
    await new Promise<void>((resolve) => lying.listen(0, "127.0.0.1", resolve));
    lyingUrl = `http://127.0.0.1:${(lying.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await server.close();
    await new Promise((resolve) => lying.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("returns the encryption bundle the manifest with the on-chain hash names, and nothing else", async () => {
    const asked: string[] = [];
    const recording: typeof fetch = (input, init) => {
      asked.push(String(input));
      return fetch(input, init);
    };
    expect(await fetchKeyBundle(server.url, await keccak256(manifest), recording)).toEqual(bundle);
    // The evaluation keys (hundreds of MB in a real bundle) are never requested.
    expect(asked).toEqual([
      `${server.url}/blobs/${await keccak256(manifest)}`,
      `${server.url}/blobs/${await keccak256(bundle)}`,
    ]);
  });

  it("refuses an on-chain hash that names something else than a manifest", async () => {
    const dir2 = mkdtempSync(join(tmpdir(), "ciphershare-keybundle-"));
    const store = new LocalDirectoryBlobStore(dir2);
    const notManifest = await store.put(bundle);
    const other = await startBlobServer(store);
    try {
      await expect(fetchKeyBundle(other.url, notManifest)).rejects.toThrow(
        /^The program's key hash 0x[0-9a-f]{64} does not name a key bundle manifest: Malformed key bundle manifest: wrong size\.$/,
      );
    } finally {
      await other.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  it("says the coprocessor has no such bundle", async () => {
    const other = await keccak256(Uint8Array.from([1, 2, 3]));
    await expect(fetchKeyBundle(server.url, other)).rejects.toThrow(
      `The coprocessor at ${server.url} has no key bundle ${other}; is it this program's coprocessor?`,
    );
  });

  it("refuses a bundle whose hash is not the program's", async () => {
    const expected = await keccak256(manifest);
    const served = await keccak256(new TextEncoder().encode("a different key"));
    const error = await fetchKeyBundle(lyingUrl, expected).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyBundleError);
    expect((error as Error).message).toBe(
      `Wrong key bundle: the coprocessor served one with hash ${served}, but the program committed ${expected} on-chain. Do not encrypt under it.`,
    );
  });

  it("says when the coprocessor is not answering", async () => {
    const url = `http://127.0.0.1:${await freeLoopbackPort()}`;
    await expect(fetchKeyBundle(url, await keccak256(bundle))).rejects.toThrow(
      `The coprocessor at ${url} is not answering; is it running?`,
    );
  });
});
