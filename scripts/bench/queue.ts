// The benchmarks' BullMQ setup: a Redis (given, or one of their own), N `ciphershare coprocessor worker` processes
// sharing a throwaway workspace's blob store, and the valuation backend that fans out to them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PublishedBundleParts } from "@ciphershare/protocol/ckks/keys";
import type { RunningChild } from "@ciphershare/coprocessor/process/child";
import { queueBackend } from "@ciphershare/coprocessor/queue/backend";
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
  backend(keys: PublishedBundleParts): Promise<ValuationBackend>;
  stop(): Promise<void>;
}

/** `queue` is a redis:// URL or "local" (start redis-server on a free port). Resolves once every worker is ready. */
export async function startQueue(queue: string, workers: number, log: (line: string) => void): Promise<BenchQueue> {
  const redis: RunningRedis | undefined = queue === "local" ? await startRedisServer() : undefined;
  const url = redis?.url ?? queue;
  const home = mkdtempSync(join(tmpdir(), "ciphershare-bench-queue-"));
  const store = new LocalDirectoryBlobStore(join(home, "blobs"));
  const children: RunningChild[] = [];
  const stop = async () => {
    await Promise.all(children.map((child) => child.stop()));
    await redis?.stop();
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await Promise.all(
      Array.from({ length: workers }, async () => {
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
  } catch (error) {
    await stop();
    throw error;
  }
  log(`${workers} BullMQ worker process(es) on ${url}`);
  return {
    url,
    store,
    backend: async (keys) => queueBackend({ queue: url, store, bundleHash: await publishBundleParts(store, keys) }),
    stop,
  };
}
