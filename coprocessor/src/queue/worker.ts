import { hostname } from "node:os";
import { Worker, type Job } from "bullmq";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { ciphertextOf } from "../shapley/encrypted/backend";
import { workerRuntime, type RuntimeHandle } from "../shapley/encrypted/pool";
import type { BlobStore } from "../storage/blob-store";
import { readBundleBytes } from "../storage/key-bundle";
import { queueWorkerName } from "./grants";
import { FEDAVG_JOB, runFedAvgJob, type FedAvgJobData } from "./fedavg";
import { decodeSetup, HE_QUEUE_NAME, redisConnection, type HeJobData, type HeJobResult } from "./jobs";

export interface QueueWorkerOptions {
  /** redis://HOST:PORT */
  readonly queue: string;
  /** The coprocessor's blob store: keys, setups, models in; results out. */
  readonly store: BlobStore;
  /**
   * The worker's own address, announced in its BullMQ name so the coordinator grants it reads (queue/grants.ts), and
   * the store reading with the grant a job carries for it (signed requests by the worker's key naming the grant).
   */
  readonly identity?: {
    readonly address: Address;
    readonly storeForGrant: (grant: Hex | undefined) => BlobStore;
  };
  readonly log?: (line: string) => void;
  /** Test hook, called when a job starts (the crash test SIGKILLs the process there). */
  readonly onJobStart?: (job: HeJobData | FedAvgJobData) => void;
  /** How long a job's lock lasts without renewal: a dead worker's job is retried elsewhere after about this. */
  readonly lockDurationMs?: number;
}

export interface RunningQueueWorker {
  readonly id: string;
  /** Resolves when the worker has connected and waits for jobs. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** The SEAL state a worker keeps between jobs, named by what it was loaded from. */
interface Loaded {
  bundle?: string;
  models?: string;
  projections?: string;
}

/**
 * A BullMQ worker for homomorphic jobs: one job at a time, computed in a worker thread with its own SEAL instance (so
 * the event loop stays free to renew the job's lock). It loads the evaluation keys by hash from the blob store once
 * and keeps them while jobs name the same bundle and setup; models and projections likewise. A job's result is the
 * ciphertext it computed, put into the store; the job returns its hash.
 */
export function startQueueWorker(options: QueueWorkerOptions): RunningQueueWorker {
  const id = `${hostname()}:${process.pid}`;
  const log = options.log ?? (() => {});
  const runtime: RuntimeHandle = workerRuntime();
  const loaded: Loaded = {};
  let cachedBundle: { hash: Hex; bytes: Uint8Array } | undefined;

  const bundleBytes = async (hash: Hex) => {
    if (cachedBundle?.hash !== hash) {
      log(`loading the evaluation keys of bundle ${hash}`);
      cachedBundle = undefined;
      cachedBundle = { hash, bytes: await readBundleBytes(options.store, hash) };
    }
    return cachedBundle.bytes;
  };

  /** The store a job reads and writes through: with the grant the job carries for this worker, if any. */
  const storeFor = (data: HeJobData | FedAvgJobData): BlobStore => {
    const identity = options.identity;
    if (identity === undefined) return options.store;
    return identity.storeForGrant(data.grants?.[identity.address.toLowerCase()]);
  };

  const prepare = async (data: HeJobData, store: BlobStore) => {
    const bundleKey = `${data.parameterSetId}:${data.bundleHash}:${data.setupHash}`;
    if (loaded.bundle !== bundleKey) {
      loaded.bundle = loaded.models = loaded.projections = undefined;
      const setup = decodeSetup(await store.get(data.setupHash));
      await runtime.request({
        type: "init",
        parameterSetId: data.parameterSetId,
        bundle: await bundleBytes(data.bundleHash),
        setup,
        prepareProjection: data.prepareProjection,
      });
      loaded.bundle = bundleKey;
    }
    const modelsKey = await listKey(data.modelHashes);
    if (loaded.models !== modelsKey) {
      loaded.models = undefined;
      const models = await Promise.all(data.modelHashes.map((hash) => store.get(hash)));
      await runtime.request({ type: "models", models });
      loaded.models = modelsKey;
    }
    if (data.projectionHashes) {
      const projectionsKey = await listKey(data.projectionHashes);
      if (loaded.projections !== projectionsKey) {
        loaded.projections = undefined;
        const projections = await Promise.all(data.projectionHashes.map((hash) => store.get(hash)));
        await runtime.request({ type: "projections", projections });
        loaded.projections = projectionsKey;
      }
    }
  };

  // FedAvg jobs run on this thread (a partial sum of a few dozen clients takes about a second), in one context per set.
  const contexts = new Map<string, Promise<CkksContext>>();
  const fedAvg = async (job: Job<FedAvgJobData, HeJobResult>): Promise<HeJobResult> => {
    options.onJobStart?.(job.data);
    const started = performance.now();
    const set = job.data.parameterSetId;
    if (!contexts.has(set)) contexts.set(set, CkksContext.create(set));
    const hash = await runFedAvgJob(await contexts.get(set)!, storeFor(job.data), job.data);
    const milliseconds = Math.round(performance.now() - started);
    log(`job ${job.id} (fedavg) done in ${milliseconds} ms`);
    return { hash, worker: id, milliseconds };
  };

  const worker = new Worker<HeJobData | FedAvgJobData, HeJobResult>(
    HE_QUEUE_NAME,
    async (job: Job<HeJobData | FedAvgJobData, HeJobResult>) => {
      if (job.name === FEDAVG_JOB) return fedAvg(job as Job<FedAvgJobData, HeJobResult>);
      const data = job.data as HeJobData;
      const task = data.task;
      if (task.type !== "prepare") options.onJobStart?.(data);
      const started = performance.now();
      const store = storeFor(data);
      await prepare(data, store);
      if (task.type === "prepare") {
        const milliseconds = Math.round(performance.now() - started);
        log(`warmed up (keys, setup, models) for ${job.id} in ${milliseconds} ms`);
        return { hash: data.setupHash, worker: id, milliseconds };
      }
      const response = await runtime.request(
        task.type === "project"
          ? { type: "project", index: task.index }
          : task.type === "terms"
            ? { type: "terms", terms: [...task.terms] }
            : task.type === "check"
              ? {
                  type: "check",
                  seed: task.seed,
                  indices: [...task.indices],
                  submitted: await Promise.all(task.submittedHashes.map((hash) => store.get(hash))),
                }
              : {
                  type: "finish",
                  partials: await Promise.all(task.partialHashes.map((hash) => store.get(hash))),
                },
      );
      const hash = await store.put(ciphertextOf(response), {
        round: data.round === undefined ? undefined : BigInt(data.round),
      });
      const milliseconds = Math.round(performance.now() - started);
      log(`job ${job.id} (${data.task.type}) done in ${milliseconds} ms`);
      return { hash, worker: id, milliseconds };
    },
    {
      connection: redisConnection(options.queue),
      concurrency: 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: Math.max(1_000, Math.floor((options.lockDurationMs ?? 30_000) / 2)),
      maxStalledCount: 5,
      autorun: true,
      name: queueWorkerName(id, options.identity?.address),
    },
  );
  worker.on("failed", (job, error) => log(`job ${job?.id ?? "?"} failed: ${error.message}`));
  worker.on("error", (error) => log(`worker error: ${error.message}`));
  return {
    id,
    ready: worker.waitUntilReady().then(() => undefined),
    close: async () => {
      await worker.close();
      await runtime.close();
      for (const ctx of contexts.values()) (await ctx).dispose();
    },
  };
}

async function listKey(hashes: readonly Hex[]): Promise<string> {
  return keccak256(new TextEncoder().encode(hashes.join(",")));
}
