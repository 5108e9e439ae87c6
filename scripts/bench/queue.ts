// The benchmarks' BullMQ setup: a Redis (given, or one of their own), N `ciphershare coprocessor worker` processes
// sharing a throwaway workspace's blob store, and the valuation backend that fans out to them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PublishedBundleParts } from "@ciphershare/protocol/ckks/keys";
import type { RunningChild } from "@ciphershare/coprocessor/process/child";
import { queueBackend, type QueueJobDone } from "@ciphershare/coprocessor/queue/backend";
import { startRedisServer, type RunningRedis } from "@ciphershare/coprocessor/queue/redis-server";
import type { ValuationBackend } from "@ciphershare/coprocessor/shapley/encrypted/backend";
import type { BlobStore } from "@ciphershare/coprocessor/storage/blob-store";
import { publishBundleParts } from "@ciphershare/coprocessor/storage/key-bundle";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { startCiphershareRole } from "../lib/cli-process";

export interface BenchQueue {
  readonly url: string;
  /** The blob store the workers share (FedAvg jobs name their envelopes in it). */
  readonly store: BlobStore;
  /** Worker processes running now. */
  readonly workers: number;
  /**
   * Stops the running worker processes and starts `count` fresh ones on the same Redis and store: nothing loaded, so
   * each loads the keys by hash again, as a newly started production worker does (`--scaling` runs one set per arm).
   */
  restartWorkers(count: number): Promise<void>;
  /** `onJob`: every finished job, with the worker that ran it (which worker did how much, per phase). */
  backend(keys: PublishedBundleParts, onJob?: (job: QueueJobDone) => void): Promise<ValuationBackend>;
  stop(): Promise<void>;
}

/** `queue` is a redis:// URL or "local" (start redis-server on a free port). Resolves once every worker is ready. */
export async function startQueue(queue: string, workers: number, log: (line: string) => void): Promise<BenchQueue> {
  const redis: RunningRedis | undefined = queue === "local" ? await startRedisServer() : undefined;
  const url = redis?.url ?? queue;
  const home = mkdtempSync(join(tmpdir(), "ciphershare-bench-queue-"));
  const store = new LocalDirectoryBlobStore(join(home, "blobs"));
  let children: RunningChild[] = [];
  const stopWorkers = async () => {
    const running = children;
    children = [];
    await Promise.all(running.map((child) => child.stop()));
  };
  const stop = async () => {
    await stopWorkers();
    await redis?.stop();
    rmSync(home, { recursive: true, force: true });
  };
  const startWorkers = async (count: number) => {
    await Promise.all(
      Array.from({ length: count }, async () => {
        let onReady: () => void = () => {};
        const ready = new Promise<void>((resolve) => (onReady = resolve));
        const child = startCiphershareRole(home, ["coprocessor", "worker", "--queue", url], {
          onLine: (line) => {
            if (/ ready on redis:/.test(line)) onReady();
          },
        });
        children.push(child);
        await Promise.race([
          ready,
          child.exited.then(({ code, signal }) => {
            throw new Error(`a queue worker exited at startup (${code ?? signal})`);
          }),
        ]);
      }),
    );
    log(`${count} BullMQ worker process(es) on ${url}`);
  };
  try {
    await startWorkers(workers);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    store,
    get workers() {
      return children.length;
    },
    restartWorkers: async (count) => {
      await stopWorkers();
      await startWorkers(count);
    },
    backend: async (keys, onJob) =>
      queueBackend({ queue: url, store, bundleHash: await publishBundleParts(store, keys), onJob }),
    stop,
  };
}
