import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobNotFoundError } from "@ciphershare/coprocessor/storage/blob-store";
import {
  failureReason,
  FIRST_RETRY_DELAY_MS,
  MAX_RETRY_DELAY_MS,
  retryDelay,
  WorkIsolation,
} from "@ciphershare/coprocessor/roles/isolation";
import { StateStore } from "@ciphershare/coprocessor/state/store";

// A role's units of work run in isolation: a poisoned one is recorded with its reason and skipped until its retry
// is due, while every other unit runs; the record survives a restart (it is in the role's SQLite file).
describe("round isolation", () => {
  let directory: string;
  let state: StateStore;
  let clock: number;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "ciphershare-isolation-"));
    state = StateStore.open(join(directory, "role.sqlite"));
    clock = 1_000_000;
  });

  afterEach(() => {
    state.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const poison = () =>
    Promise.reject(new BlobNotFoundError("No blob with this hash on the server.", { details: "0xab" }));

  it("a poisoned round fails with its reason recorded; the next round still runs in the same pass", async () => {
    const isolation = new WorkIsolation(state, "coprocessor", { now: () => clock });
    const ran: string[] = [];
    const outcomes = [];
    for (const key of ["round:1", "round:2"]) {
      outcomes.push(
        await isolation.run(key, async () => {
          if (key === "round:1") return poison();
          ran.push(key);
          return key;
        }),
      );
    }
    expect(outcomes[0]).to.deep.include({ status: "failed" });
    expect(outcomes[1]).to.deep.equal({ status: "done", value: "round:2" });
    expect(ran).to.deep.equal(["round:2"]);
    expect(isolation.failureOf("round:1")).to.deep.equal({
      reason: "No blob with this hash on the server. (0xab)",
      attempts: 1,
      failedAt: clock,
      retryAt: clock + FIRST_RETRY_DELAY_MS,
    });
    expect(isolation.failureOf("round:2")).to.equal(undefined);
  });

  it("retries a failed round only when due, backing off, and forgets the failure once it succeeds", async () => {
    const isolation = new WorkIsolation(state, "custodian", { now: () => clock });
    let healthy = false;
    const work = () => (healthy ? Promise.resolve("released") : poison());
    await isolation.run("round:7", work);
    clock += FIRST_RETRY_DELAY_MS - 1;
    expect((await isolation.run("round:7", work)).status).to.equal("deferred");
    clock += 1;
    expect((await isolation.run("round:7", work)).status).to.equal("failed");
    expect(isolation.failureOf("round:7")?.attempts).to.equal(2);
    expect(isolation.failureOf("round:7")?.retryAt).to.equal(clock + 2 * FIRST_RETRY_DELAY_MS);
    // The record is durable: a restarted role sees it.
    state.close();
    state = StateStore.open(join(directory, "role.sqlite"));
    const restarted = new WorkIsolation(state, "custodian", { now: () => clock });
    expect(restarted.failureOf("round:7")?.attempts).to.equal(2);
    clock += 2 * FIRST_RETRY_DELAY_MS;
    healthy = true;
    expect(await restarted.run("round:7", work)).to.deep.equal({ status: "done", value: "released" });
    expect(restarted.failureOf("round:7")).to.equal(undefined);
  });

  it("delays double up to an hour; a delay of 0 retries at every pass", async () => {
    expect([1, 2, 3].map((a) => retryDelay(a))).to.deep.equal([30_000, 60_000, 120_000]);
    expect(retryDelay(40)).to.equal(MAX_RETRY_DELAY_MS);
    const eager = new WorkIsolation(state, "coprocessor", { now: () => clock, firstRetryDelayMs: 0 });
    await eager.run("round:1", poison);
    expect((await eager.run("round:1", poison)).status).to.equal("failed");
  });

  it("names the failure in one line, with the offending value", () => {
    expect(failureReason(new TypeError("fetch failed"))).to.equal("TypeError: fetch failed");
    expect(failureReason("boom")).to.equal("boom");
  });
});
