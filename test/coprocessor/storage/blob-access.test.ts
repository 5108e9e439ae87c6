import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import {
  BLOB_REQUEST_HEADERS,
  BlobAccessDeniedError,
  BlobAccessGuard,
  blobRequestSigner,
  type BlobReaders,
} from "@ciphershare/coprocessor/storage/blob-access";
import { HttpBlobStore } from "@ciphershare/coprocessor/storage/http-client";
import { startBlobServer, type RunningBlobServer } from "@ciphershare/coprocessor/storage/http-server";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { rejectionOf } from "../../support/rejection";

// Attack: read a contributor's input ciphertext without being a party that computes on it — unsigned, signed by an
// outsider, with a signature made for another blob or another deployment, replayed, expired or made to last forever.
describe("blob store: contributions only to signed requests of their round's readers", () => {
  const coprocessor = privateKeyToAccount(`0x${"11".repeat(32)}`);
  const member = privateKeyToAccount(`0x${"22".repeat(32)}`);
  const outsider = privateKeyToAccount(`0x${"33".repeat(32)}`);
  const domain = { chainId: 31337, hub: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address };
  let directory: string;
  let server: RunningBlobServer;
  let local: LocalDirectoryBlobStore;
  let input: Hex;
  let output: Hex;
  let otherInput: Hex;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), "ciphershare-access-"));
    local = new LocalDirectoryBlobStore(directory);
    input = await local.put(new TextEncoder().encode("a contributor's envelope"));
    otherInput = await local.put(new TextEncoder().encode("another contributor's envelope"));
    output = await local.put(new TextEncoder().encode("the round's aggregate"));
    const readers: BlobReaders = {
      readersOf: async (hash) =>
        hash === input || hash === otherInput ? [coprocessor.address, member.address] : undefined,
    };
    server = await startBlobServer(local, { access: new BlobAccessGuard(readers, domain) });
  });

  afterEach(async () => {
    await server.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const as = (account: typeof coprocessor, lifetime?: number, on = domain) =>
    new HttpBlobStore(server.url, 2 ** 20, blobRequestSigner(account, on, lifetime));

  it("serves outputs to anyone and an input to its coprocessor and committee members", async () => {
    const anyone = new HttpBlobStore(server.url);
    expect(new TextDecoder().decode(await anyone.get(output))).to.equal("the round's aggregate");
    expect(await anyone.has(output)).to.equal(true);
    expect(new TextDecoder().decode(await as(coprocessor).get(input))).to.equal("a contributor's envelope");
    expect(new TextDecoder().decode(await as(member).get(input))).to.equal("a contributor's envelope");
  });

  it("refuses an unsigned request (401) and one signed by an outsider (403)", async () => {
    const unsigned = await rejectionOf(new HttpBlobStore(server.url).get(input), BlobAccessDeniedError);
    expect(unsigned.status).to.equal(401);
    await rejectionOf(new HttpBlobStore(server.url).has(input), BlobAccessDeniedError);
    const foreign = await rejectionOf(as(outsider).get(input), BlobAccessDeniedError);
    expect(foreign.status).to.equal(403);
  });

  it("refuses a signature made for another blob or another deployment", async () => {
    const headers = await blobRequestSigner(member, domain)(otherInput);
    const response = await fetch(`${server.url}/blobs/${input}`, { headers });
    expect(response.status).to.equal(403, "the signer recovered from another blob's signature is nobody allowed");
    const elsewhere = await rejectionOf(as(member, 60, { ...domain, chainId: 1 }).get(input), BlobAccessDeniedError);
    expect(elsewhere.status).to.equal(403);
  });

  it("refuses a replayed request, an expired one and one that would last too long", async () => {
    const headers = await blobRequestSigner(member, domain)(input);
    expect((await fetch(`${server.url}/blobs/${input}`, { headers })).status).to.equal(200);
    const replay = await fetch(`${server.url}/blobs/${input}`, { headers });
    expect(replay.status).to.equal(401);
    expect(await replay.text()).to.contain("replay");
    const expired = await rejectionOf(as(member, -1).get(input), BlobAccessDeniedError, /refused/);
    expect(expired.details).to.contain("expired");
    const forever = await rejectionOf(as(member, 3600).get(input), BlobAccessDeniedError);
    expect(forever.details).to.contain("lives too long");
  });

  it("refuses malformed signed-request headers with 401", async () => {
    const response = await fetch(`${server.url}/blobs/${input}`, {
      headers: {
        [BLOB_REQUEST_HEADERS.signature]: "0xnothex",
        [BLOB_REQUEST_HEADERS.expiresAt]: "soon",
        [BLOB_REQUEST_HEADERS.nonce]: "0x00",
      },
    });
    expect(response.status).to.equal(401);
  });
});
