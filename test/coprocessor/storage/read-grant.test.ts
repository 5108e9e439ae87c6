import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import {
  BLOB_GRANT_HEADER,
  BlobAccessDeniedError,
  BlobAccessGuard,
  blobRequestSigner,
  type BlobReaders,
} from "@ciphershare/coprocessor/storage/blob-access";
import { HttpBlobStore } from "@ciphershare/coprocessor/storage/http-client";
import { startBlobServer, type RunningBlobServer } from "@ciphershare/coprocessor/storage/http-server";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import {
  decodeReadGrant,
  encodeReadGrant,
  MAX_GRANT_LIFETIME,
  ReadGrantVerifier,
  signReadGrant,
  type GrantAuthority,
  type ReadGrant,
} from "@ciphershare/coprocessor/storage/read-grant";
import { rejectionOf } from "../../support/rejection";

// Attack (a malicious queue worker): a worker holds no key of a computing party; it reads a round's inputs with its
// own key and a grant the round's coprocessor signed for it. It tries to stretch a grant: to another round's inputs,
// to blobs the grant does not list, after it expired, with a grant it forged or that another worker was given.
describe("blob store: job-scoped read grants for queue workers", () => {
  const coprocessor1 = privateKeyToAccount(`0x${"11".repeat(32)}`);
  const coprocessor2 = privateKeyToAccount(`0x${"12".repeat(32)}`);
  const worker = privateKeyToAccount(`0x${"44".repeat(32)}`);
  const otherWorker = privateKeyToAccount(`0x${"45".repeat(32)}`);
  const domain = { chainId: 31337, hub: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address };
  const coprocessorOf: Record<string, Address> = { "1": coprocessor1.address, "2": coprocessor2.address };
  let directory: string;
  let server: RunningBlobServer;
  let local: LocalDirectoryBlobStore;
  let now: number;
  let input1: Hex;
  let projection1: Hex;
  let input2: Hex;
  let output: Hex;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), "ciphershare-grant-"));
    local = new LocalDirectoryBlobStore(directory);
    now = Math.floor(Date.now() / 1000);
    const bytes = (text: string) => new TextEncoder().encode(text);
    // Restricted at upload (the queue's copies and results): round 1's model and projection, round 2's model.
    input1 = await local.put(bytes("round 1: a contributor's model"), { round: 1n });
    projection1 = await local.put(bytes("round 1: a projection"), { round: 1n });
    input2 = await local.put(bytes("round 2: a contributor's model"), { round: 2n });
    output = await local.put(bytes("round 1: the aggregate"));
    const roundOf = (hash: Hex) => local.restrictedRound(hash);
    const readers: BlobReaders = {
      readersOf: async (hash) => {
        const round = await roundOf(hash);
        return round === undefined ? undefined : [coprocessorOf[`${round}`]];
      },
    };
    const authority: GrantAuthority = {
      grantersOf: async (hash) => {
        const round = await roundOf(hash);
        return round === undefined ? undefined : { round, granters: [coprocessorOf[`${round}`]] };
      },
    };
    const grants = new ReadGrantVerifier(authority, domain, async (hash) =>
      (await local.has(hash)) ? local.get(hash) : undefined,
    );
    server = await startBlobServer(local, { access: new BlobAccessGuard(readers, domain, undefined, grants) });
  });

  afterEach(async () => {
    await server.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** A grant signed by `signer`, stored (public) like the coordinator stores it; returns its hash. */
  const grant = async (signer: typeof worker, fields: Partial<ReadGrant> = {}) => {
    const signed = await signReadGrant(signer, domain, {
      worker: worker.address,
      round: 1n,
      blobs: [input1],
      expiresAt: now + 600,
      ...fields,
    });
    return local.put(encodeReadGrant(signed));
  };
  /** The store as `reader` sees it, naming `grantHash` in every read. */
  const as = (reader: typeof worker, grantHash?: Hex) => {
    const sign = blobRequestSigner(reader, domain);
    return new HttpBlobStore(server.url, 2 ** 20, async (hash) => ({
      ...(await sign(hash)),
      ...(grantHash === undefined ? {} : { [BLOB_GRANT_HEADER]: grantHash }),
    }));
  };
  const refusal = async (promise: Promise<unknown>) => rejectionOf(promise, BlobAccessDeniedError);

  it("restricts a blob stored for a round to that round's readers, and only bytes new to the store", async () => {
    expect((await refusal(new HttpBlobStore(server.url).get(input1))).status).to.equal(401);
    expect((await refusal(as(worker).get(input1))).status).to.equal(403);
    expect(new TextDecoder().decode(await as(coprocessor1).get(input1))).to.equal("round 1: a contributor's model");
    // Uploading a public blob again "for a round" does not hide it; an upload over HTTP restricts like a local put.
    await new HttpBlobStore(server.url).put(new TextEncoder().encode("round 1: the aggregate"), { round: 1n });
    expect(await local.restrictedRound(output)).to.equal(undefined);
    const uploaded = await new HttpBlobStore(server.url).put(new TextEncoder().encode("a usage batch"), { round: 2n });
    expect(await local.restrictedRound(uploaded)).to.equal(2n);
    expect((await refusal(new HttpBlobStore(server.url).get(uploaded))).status).to.equal(401);
  });

  it("a worker reads what its grant lists, for the grant's round, with its own key", async () => {
    const granted = await grant(coprocessor1, { blobs: [input1, projection1] });
    const store = as(worker, granted);
    expect(new TextDecoder().decode(await store.get(input1))).to.equal("round 1: a contributor's model");
    expect(await store.has(projection1)).to.equal(true);
    // Public blobs need no grant; the grant itself is public (it names hashes and a worker, no secret).
    expect(await store.has(output)).to.equal(true);
    expect(decodeReadGrant(await new HttpBlobStore(server.url).get(granted)).worker).to.equal(worker.address);
  });

  it("a grant for round 1 opens neither round 2's inputs nor round 1's blobs it does not list", async () => {
    const forOne = await grant(coprocessor1);
    const other = await refusal(as(worker, forOne).get(input2));
    expect([other.status, other.details]).to.deep.equal([
      403,
      `${input2}: HTTP 403 {"error":"The read grant does not list this blob."}`,
    ]);
    expect((await refusal(as(worker, forOne).get(projection1))).status).to.equal(403);
    // Listing round 2's blob in a grant round 1's coprocessor signed does not help: the blob is not round 1's.
    const stretched = await grant(coprocessor1, { blobs: [input1, input2] });
    const message = (await refusal(as(worker, stretched).get(input2))).details;
    expect(message).to.contain("The read grant is for another round.");
    // Nor does naming round 2 in it: round 2's coprocessor did not sign it.
    const renamed = await grant(coprocessor1, { round: 2n, blobs: [input2] });
    expect((await refusal(as(worker, renamed).get(input2))).details).to.contain(
      "not signed by the round's coprocessor",
    );
  });

  it("refuses an expired grant and one that would last too long", async () => {
    const expired = await grant(coprocessor1, { expiresAt: now - 1 });
    expect((await refusal(as(worker, expired).get(input1))).details).to.contain("The read grant has expired.");
    const forever = await grant(coprocessor1, { expiresAt: now + MAX_GRANT_LIFETIME + 600 });
    expect((await refusal(as(worker, forever).get(input1))).details).to.contain("lives too long");
  });

  it("refuses a grant signed by anyone but the round's coprocessor (the worker itself, another coprocessor)", async () => {
    for (const signer of [worker, coprocessor2]) {
      const forged = await grant(signer);
      const refused = await refusal(as(worker, forged).get(input1));
      expect([refused.status, refused.details]).to.deep.equal([
        403,
        `${input1}: HTTP 403 {"error":"The read grant is not signed by the round's coprocessor."}`,
      ]);
    }
  });

  it("refuses a grant presented by another address, an unknown grant and a grant without a signed request", async () => {
    const granted = await grant(coprocessor1);
    expect((await refusal(as(otherWorker, granted).get(input1))).details).to.contain("names another worker");
    const unknown = `0x${"ab".repeat(32)}` as Hex;
    expect((await refusal(as(worker, unknown).get(input1))).details).to.contain("not in the store");
    const bare = new HttpBlobStore(server.url, 2 ** 20, async () => ({ [BLOB_GRANT_HEADER]: granted }));
    expect((await refusal(bare.get(input1))).status).to.equal(401);
  });
});
