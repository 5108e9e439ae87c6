import { expect } from "chai";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import type { Hex } from "@ciphershare/protocol/hex";
import { chainReader, roleAccount } from "@ciphershare/coprocessor/chain/clients";
import { contractsToRead } from "@ciphershare/coprocessor/chain/contracts";
import { readDeployment, ROLE_ACCOUNT } from "@ciphershare/coprocessor/roles/workspace";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import type { RunningChild } from "@ciphershare/coprocessor/process/child";
import { startRedisServer, type RunningRedis } from "@ciphershare/coprocessor/queue/redis-server";
import { startCiphershareRole } from "@ciphershare/scripts/lib/cli-process";
import { accessOf } from "../support/blob-requests";
import { cli, run, startTestNetwork, type TestNetwork } from "./processes";

// `coprocessor run --queue`: a real round whose encrypted valuation runs on a BullMQ worker process; the auditor,
// who recomputes both outputs embedded (worker threads, no Redis), finds the published commitments byte-identical. The
// worker holds no key of the round's parties: it reads with a fresh key of its own and the coordinator's read grants.
describe("end to end: the coprocessor on a BullMQ worker", function () {
  let network: TestNetwork;
  let redis: RunningRedis;
  let worker: RunningChild | undefined;
  let jobs = 0;
  let workerAddress: string | undefined;

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
        const ready = / \(reading as (0x[0-9a-fA-F]{40})\) ready on redis:/.exec(line);
        if (ready) {
          workerAddress = ready[1];
          onReady();
        }
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
    // The worker read with a key of its own: it announced an address that is no party of the round.
    expect(workerAddress).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(workerAddress!.toLowerCase()).to.not.equal(roleAccount(ROLE_ACCOUNT.coprocessor).address.toLowerCase());
  });

  it("keeps every copy and partial result of the round's inputs from outsiders (FedAvg envelopes and sums, models, projections, terms)", async () => {
    const deployment = readDeployment(network.ws);
    const marked = readdirSync(join(network.ws.blobsDir, "restricted")).filter((name) => /^[0-9a-f]{64}$/.test(name));
    const restricted = marked.map((name) => `0x${name}` as Hex);
    // 3 envelopes copied for the FedAvg jobs and their partial sum(s), 3 models, 3 projections, term sums, the total.
    expect(restricted.length).to.be.at.least(3 + 1 + 3 + 3 + 1 + 1);
    const coprocessor = roleAccount(ROLE_ACCOUNT.coprocessor);
    for (const hash of restricted) {
      expect(await accessOf(network.blobs.url, deployment, hash, coprocessor), hash).to.deep.equal({
        unsigned: 401,
        outsider: 403,
        reader: 200,
      });
    }
    // The models the coordinator handed to the jobs are chunk 0 of each revealed envelope: among the restricted blobs.
    const { rounds } = contractsToRead(deployment, chainReader(network.chain.rpcUrl, network.chain.chainId));
    const store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    for (let k = 0n; k < 3n; k++) {
      const { ciphertextHash } = await rounds.read.commitmentAt([1n, k]);
      const model = (await parseEnvelope(await store.get(ciphertextHash))).chunks[0];
      expect(restricted).to.include(await keccak256(model));
    }
  });
});
