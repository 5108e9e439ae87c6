import { expect } from "chai";
import { rmSync } from "node:fs";
import type { RunningChild } from "@ciphershare/coprocessor/process/child";
import { startRedisServer, type RunningRedis } from "@ciphershare/coprocessor/queue/redis-server";
import { startCiphershareRole } from "@ciphershare/scripts/lib/cli-process";
import { cli, run, startTestNetwork, type TestNetwork } from "./processes";

// `coprocessor run --queue`: a real round whose encrypted valuation runs on a BullMQ worker process; the auditor,
// who recomputes both outputs embedded (worker threads, no Redis), finds the published commitments byte-identical.
describe("end to end: the coprocessor on a BullMQ worker", function () {
  let network: TestNetwork;
  let redis: RunningRedis;
  let worker: RunningChild | undefined;
  let jobs = 0;

  before(async function () {
    network = await startTestNetwork("ciphershare-queue-round-");
    redis = await startRedisServer();
    const home = network.home;
    await cli(home, ["network", "deploy"]);
    await cli(home, ["custodian", "keygen"]);
    await cli(home, ["network", "create-program"]);
    await cli(home, ["custodian", "accept", "--program", "1"]);
    await Promise.all([0, 1, 2].map((i) => cli(home, ["contributor", "register", "--index", String(i)])));
    await cli(home, ["network", "open-round", "--program", "1"]);
    for (const i of [0, 1, 2]) {
      await cli(home, ["contributor", "submit", "--index", String(i), "--round", "1", "--clients", "3"]);
    }
    await cli(home, ["contributor", "reveal", "--index", "0", "--round", "1", "--advance-time"]);
    await Promise.all([1, 2].map((i) => cli(home, ["contributor", "reveal", "--index", String(i), "--round", "1"])));
    await cli(home, ["network", "close", "--round", "1", "--advance-time"]);
  });

  after(async () => {
    await worker?.stop();
    await redis?.stop();
    await network?.stop();
    if (network) rmSync(network.home, { recursive: true, force: true });
  });

  it("publishes outputs the auditor's embedded recomputation matches byte for byte", async () => {
    let onReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    worker = startCiphershareRole(network.home, ["coprocessor", "worker", "--queue", redis.url], {
      onLine: (line) => {
        if (/ ready on redis:/.test(line)) onReady();
        if (/^\[worker\] job .* done in /.test(line)) jobs++;
      },
    });
    await ready;
    const coprocessor = await run([
      "coprocessor",
      "run",
      "--once",
      "--queue",
      redis.url,
      "--home",
      network.home,
      "--json",
    ]);
    expect(coprocessor.code, coprocessor.stderr).to.equal(0);
    expect((coprocessor.json as { processed: number[] }).processed).to.deep.equal([1]);
    // 3 projections and at least one job of Gram terms ran on the worker.
    expect(jobs).to.be.greaterThan(3);

    const audit = await run(["audit", "--round", "1", "--home", network.home, "--json", "--workers", "2"]);
    const verdict = audit.json as { checks: { name: string; passed: boolean }[] };
    const byName = Object.fromEntries(verdict.checks.map((c) => [c.name, c.passed]));
    expect(byName).to.deep.include({ "inputs-hash": true, "aggregate-commitment": true, "scores-commitment": true });
  });
});
