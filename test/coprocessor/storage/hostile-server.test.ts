import { expect } from "chai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ExclusionReason } from "@ciphershare/protocol/chain/constants";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import type { Hex } from "@ciphershare/protocol/hex";
import { modelTensors, ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import {
  checkContribution,
  contributionFetchLimits,
  expectedEnvelopeBytes,
  verifyInputs,
  type InputRules,
} from "@ciphershare/coprocessor/roles/coprocessor";
import { BlobIntegrityError, BlobTooLargeError } from "@ciphershare/coprocessor/storage/blob-store";
import { BlobServerError, BlobTimeoutError, HttpBlobStore } from "@ciphershare/coprocessor/storage/http-client";
import { CommitmentStatus } from "@ciphershare/protocol/chain/constants";
import type { RoundCommitment } from "@ciphershare/protocol/round/inputs";
import { rejectionOf } from "../../support/rejection";

const HASH = `0x${"5a".repeat(32)}` as Hex;
const TIMEOUT_MS = 400;

/**
 * A real HTTP server that misbehaves the way a contributor-chosen blob URI can: the first path segment picks the
 * behaviour (`/<mode>/blobs/<hash>`). It records how many body bytes each mode managed to send before the client
 * hung up.
 */
function hostileServer(): { server: Server; sent: Map<string, number>; open: Set<ServerResponse> } {
  const sent = new Map<string, number>();
  const open = new Set<ServerResponse>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const mode = (request.url ?? "").split("/")[1];
    open.add(response);
    response.on("close", () => open.delete(response));
    let bytes = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x41);
    const pump = () => {
      // Writes until the client stops reading or goes away.
      const timer = setInterval(() => {
        if (response.destroyed) return clearInterval(timer);
        response.write(chunk);
        bytes += chunk.length;
        sent.set(mode, bytes);
      }, 1);
      response.on("close", () => clearInterval(timer));
    };
    switch (mode) {
      case "huge-declared":
        response.writeHead(200, { "Content-Length": String(10 * 2 ** 30) });
        pump();
        return;
      case "endless":
        response.writeHead(200, { "Content-Type": "application/octet-stream" });
        pump();
        return;
      case "cut":
        response.writeHead(200, { "Content-Length": "100000" });
        response.write(new Uint8Array(1000));
        setTimeout(() => request.socket.destroy(), 20);
        return;
      case "silent":
        return; // accepts the connection and never answers
      case "stall":
        response.writeHead(200, { "Content-Length": "100000" });
        response.write(new Uint8Array(10));
        return; // and never the rest
      case "error-flood":
        response.writeHead(500, { "Content-Type": "text/plain" });
        pump();
        return;
      case "wrong-bytes":
        response.writeHead(200, { "Content-Length": "5" });
        response.end("hello");
        return;
      case "not-found":
        response.writeHead(404);
        response.end();
        return;
      default:
        response.writeHead(400);
        response.end();
    }
  });
  return { server, sent, open };
}

// Blob fetches from a contributor-chosen URI against a real hostile HTTP server: every misbehaviour ends, within the
// deadline and the round's size cap, in a typed error from the store and in an exclusion with its reason from the
// coprocessor's check — never in an exception, a hang or an unbounded read.
describe("blob fetches from a hostile server", function () {
  let hostile: ReturnType<typeof hostileServer>;
  let base: string;
  const rules: InputRules = {
    parameterSetId: ROUND_PARAMETER_SET_ID,
    publicBundleHash: `0x${"11".repeat(32)}`,
    tensors: modelTensors(785, 10),
  };
  const limits = contributionFetchLimits(rules, TIMEOUT_MS);
  const store = (mode: string) => new HttpBlobStore(`${base}/${mode}`, limits);
  const commitment = { ciphertextHash: HASH, sampleCount: 100 };

  before(async () => {
    hostile = hostileServer();
    await new Promise<void>((resolve) => hostile.server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(hostile.server.address() as AddressInfo).port}`;
  });

  after(async () => {
    hostile.server.closeAllConnections();
    await new Promise((resolve) => hostile.server.close(resolve));
  });

  it("caps a download at the exact size of the round's contribution envelope", () => {
    // deep-v2: header, manifest and one fresh ciphertext of the 785 × 10 model.
    expect(limits.maxBlobBytes).to.equal(expectedEnvelopeBytes(rules));
    expect(limits.maxBlobBytes).to.be.within(1_000_000, 4_000_000);
  });

  it("a server declaring a 10 GiB body is refused before its body is read", async () => {
    const error = await rejectionOf(store("huge-declared").get(HASH), BlobTooLargeError);
    expect(error.message).to.match(/10737418240 bytes declared/);
    const verdict = await checkContribution(store("huge-declared"), commitment, rules);
    expect(verdict).to.include({ included: false, reason: ExclusionReason.Malformed });
    expect(verdict.included === false && verdict.detail).to.match(/larger than a contribution envelope/);
  });

  it("a server streaming an endless body without a length is cut off just past the cap", async () => {
    await rejectionOf(store("endless").get(HASH), BlobTooLargeError);
    const verdict = await checkContribution(store("endless"), commitment, rules);
    expect(verdict).to.include({ included: false, reason: ExclusionReason.Malformed });
    // The client hung up: the server's writes stop (within what was already buffered in the socket).
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = hostile.sent.get("endless") ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hostile.sent.get("endless")).to.equal(before);
    expect([...hostile.open].filter((r) => r.req.url?.startsWith("/endless"))).to.have.length(0);
  });

  it("a server that cuts the connection mid-body is a failed fetch, not a crash", async () => {
    const error = await rejectionOf(store("cut").get(HASH), BlobServerError);
    expect(error).not.to.be.instanceOf(BlobTimeoutError);
    const verdict = await checkContribution(store("cut"), commitment, rules);
    expect(verdict).to.include({ included: false, reason: ExclusionReason.BlobMissing });
    expect(verdict.included === false && verdict.detail).to.match(/broke off after 1000 bytes/);
  });

  it("a server that never answers, or stalls after the headers, times out at the deadline", async () => {
    for (const mode of ["silent", "stall"]) {
      const started = performance.now();
      await rejectionOf(store(mode).get(HASH), BlobTimeoutError);
      // The deadline bounds the wait (generous slack for a loaded machine; no tight timing is asserted).
      expect(performance.now() - started).to.be.below(TIMEOUT_MS + 10_000);
      const verdict = await checkContribution(store(mode), commitment, rules);
      expect(verdict).to.include({ included: false, reason: ExclusionReason.BlobMissing });
      expect(verdict.included === false && verdict.detail).to.match(/did not answer in time/);
    }
  });

  it("an error status with an endless body, bytes of another hash and a 404 are exclusions with their reasons", async () => {
    await rejectionOf(store("error-flood").get(HASH), BlobServerError);
    expect(await checkContribution(store("error-flood"), commitment, rules)).to.include({
      included: false,
      reason: ExclusionReason.BlobMissing,
    });
    await rejectionOf(store("wrong-bytes").get(HASH), BlobIntegrityError);
    expect(await checkContribution(store("wrong-bytes"), commitment, rules)).to.include({
      included: false,
      reason: ExclusionReason.HashMismatch,
    });
    expect(await checkContribution(store("not-found"), commitment, rules)).to.include({
      included: false,
      reason: ExclusionReason.BlobMissing,
    });
  });

  it("a round whose every revealed URI is hostile still gets its reasons, each fetch within the round's limits", async () => {
    const modes = ["huge-declared", "endless", "cut", "silent", "stall", "error-flood", "wrong-bytes"];
    const commitments: RoundCommitment[] = modes.map((mode, index) => ({
      index,
      contributor: `0x${(index + 1).toString(16).padStart(40, "0")}`,
      sampleCount: 100,
      status: CommitmentStatus.Revealed,
      ciphertextHash: HASH,
      uri: `${base}/${mode}`,
    }));
    const seen: (typeof limits | undefined)[] = [];
    const inputs = await verifyInputs(
      commitments,
      rules,
      (uri, given) => {
        seen.push(given);
        return new HttpBlobStore(uri, given);
      },
      TIMEOUT_MS,
    );
    expect(inputs.included).to.have.length(0);
    expect(inputs.exclusions.map((e) => e.reason)).to.deep.equal([
      ExclusionReason.Malformed,
      ExclusionReason.Malformed,
      ExclusionReason.BlobMissing,
      ExclusionReason.BlobMissing,
      ExclusionReason.BlobMissing,
      ExclusionReason.BlobMissing,
      ExclusionReason.HashMismatch,
    ]);
    expect(seen).to.deep.equal(modes.map(() => limits));
  });

  it("the bytes of an honest blob still come back verified under the same limits", async () => {
    const honest = createServer((request, response) => {
      response.writeHead(200, { "Content-Length": "5" });
      response.end("hello");
    });
    await new Promise<void>((resolve) => honest.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(honest.address() as AddressInfo).port}`;
      const bytes = new TextEncoder().encode("hello");
      expect(await new HttpBlobStore(url, limits).get(await keccak256(bytes))).to.deep.equal(bytes);
    } finally {
      await new Promise((resolve) => honest.close(resolve));
    }
  });
});
