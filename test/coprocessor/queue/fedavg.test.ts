import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { modelUpdateFromArray } from "@ciphershare/protocol/formats/model-update";
import { fedAvgEncrypted } from "@ciphershare/coprocessor/fedavg/homomorphic";
import { queueFedAvg, type FedAvgJobData } from "@ciphershare/coprocessor/queue/fedavg";
import type { HeJobData } from "@ciphershare/coprocessor/queue/jobs";
import { startRedisServer, type RunningRedis } from "@ciphershare/coprocessor/queue/redis-server";
import { startQueueWorker, type RunningQueueWorker } from "@ciphershare/coprocessor/queue/worker";
import { computeAggregate } from "@ciphershare/coprocessor/roles/computation";
import type { RunningChild } from "@ciphershare/coprocessor/process/child";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { startCiphershareRole } from "@ciphershare/scripts/lib/cli-process";
import { keyedContext, sampleUpdate, type KeyedContext } from "../../support/ckks";

describe("queue: FedAvg on BullMQ workers (Redis)", function () {
  this.timeout(600_000);
  // 3 chunks at fast-v1's 4096 slots (the last partial); one client with 0 samples (skipped, as embedded).
  const length = 10_000;
  const counts = [120, 0, 37, 1, 5000, 64, 300];
  let redis: RunningRedis;
  let home: string;
  let store: LocalDirectoryBlobStore;
  let fixture: KeyedContext;
  let clients: { envelope: Uint8Array; sampleCount: number }[];
  let embedded: Uint8Array;
  const workers: RunningQueueWorker[] = [];

  const viaQueue = (clientsPerJob: number) =>
    queueFedAvg(fixture.ctx, clients, {
      queue: redis.url,
      store,
      publicBundleHash: fixture.bundle.hash,
      clientsPerJob,
    });
  const worker = (onJobStart?: (job: HeJobData | FedAvgJobData) => void) => {
    const running = startQueueWorker({ queue: redis.url, store, lockDurationMs: 3_000, onJobStart });
    workers.push(running);
    return running.ready;
  };

  before(async () => {
    redis = await startRedisServer();
    home = mkdtempSync(join(tmpdir(), "ciphershare-fedavg-queue-"));
    store = new LocalDirectoryBlobStore(join(home, "blobs"));
    fixture = await keyedContext();
    clients = [];
    for (const [i, sampleCount] of counts.entries()) {
      const update = modelUpdateFromArray(sampleUpdate(length, 300 + i), [100, 100]);
      clients.push({ envelope: await encryptModelUpdate(fixture.ctx, fixture.bundle, update), sampleCount });
    }
    embedded = await fedAvgEncrypted(fixture.ctx, clients, { publicBundleHash: fixture.bundle.hash });
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((running) => running.close()));
  });

  after(async () => {
    await redis?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("gives the embedded envelope's bytes with one worker and with two, whatever the job size", async () => {
    await worker();
    for (const size of [1, 3, 32])
      expect(Buffer.from(await viaQueue(size)).equals(Buffer.from(embedded))).to.equal(true);
    await worker();
    expect(Buffer.from(await viaQueue(2)).equals(Buffer.from(embedded))).to.equal(true);
  });

  it("retries a job that failed on a worker; the bytes are unchanged", async () => {
    let failed = 0;
    await worker((job) => {
      if ("envelopeHashes" in job && failed++ === 0) throw new Error("a worker lost its job");
    });
    expect(Buffer.from(await viaQueue(2)).equals(Buffer.from(embedded))).to.equal(true);
    expect(failed).to.be.greaterThan(1);
  });

  it("`coprocessor run --queue`'s computeAggregate sends FedAvg to a `ciphershare coprocessor worker` process", async () => {
    let fedAvgJobs = 0;
    let onReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    const child: RunningChild = startCiphershareRole(home, ["coprocessor", "worker", "--queue", redis.url], {
      onLine: (line) => {
        if (/ ready on redis:/.test(line)) onReady();
        if (/^\[worker\] job .* \(fedavg\) done in /.test(line)) fedAvgJobs++;
      },
    });
    try {
      await ready;
      const aggregate = await computeAggregate({
        ctx: fixture.ctx,
        bundleBytes: new Uint8Array(),
        bundleHash: fixture.bundle.hash,
        inputs: clients,
        validation: undefined as never,
        base: undefined as never,
        fedAvgQueue: { queue: redis.url, store, clientsPerJob: 4 },
      });
      expect(Buffer.from(aggregate).equals(Buffer.from(embedded))).to.equal(true);
      expect(fedAvgJobs).to.equal(3 * 2); // 3 chunks × ⌈6 positive-weight clients / 4⌉
    } finally {
      await child.stop();
    }
  });
});
