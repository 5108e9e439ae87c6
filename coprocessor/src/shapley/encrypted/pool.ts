import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { CkksError } from "@ciphershare/protocol/ckks/errors";
import { ShapleyRuntime, type RuntimeRequest, type RuntimeResponse } from "./runtime";

/** Something that runs runtime requests: a worker thread, or the calling thread itself. */
export interface RuntimeHandle {
  request(request: RuntimeRequest): Promise<RuntimeResponse>;
  close(): Promise<void>;
}

/** Runs requests in the calling thread (for tests and `workers: 0`). */
export function localRuntime(): RuntimeHandle {
  const runtime = new ShapleyRuntime();
  return {
    request: (request) => runtime.handle(request),
    close: async () => runtime.dispose(),
  };
}

/**
 * A worker thread with its own SEAL instance (each WASM heap is capped at 4 GB and SEAL is
 * single-threaded, so one instance per core). The worker compiles the TypeScript runtime through tsx.
 */
export function workerRuntime(): RuntimeHandle {
  const tsx = require.resolve("tsx/cjs");
  const entry = join(__dirname, "worker.ts");
  const worker = new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(entry)});`, { eval: true });
  let nextId = 0;
  const pending = new Map<number, { resolve: (r: RuntimeResponse) => void; reject: (e: unknown) => void }>();
  const failAll = (error: unknown) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on("message", (message: { id: number; response?: RuntimeResponse; error?: string }) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error !== undefined)
      waiter.reject(new CkksError("A Shapley worker failed.", { details: message.error }));
    else waiter.resolve(message.response!);
  });
  worker.on("error", (error) => failAll(new CkksError("A Shapley worker crashed.", { cause: error })));
  worker.on("exit", (code) => failAll(new CkksError("A Shapley worker exited.", { details: `exit code ${code}` })));
  return {
    request: (request) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, request });
      }),
    close: async () => {
      await worker.terminate();
    },
  };
}

/** `count` worker threads, or the calling thread when count is 0. */
export function openRuntimes(count: number): RuntimeHandle[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new CkksError("The number of worker threads must be a non-negative integer.", { details: `${count}` });
  }
  return count === 0 ? [localRuntime()] : Array.from({ length: count }, () => workerRuntime());
}

/** Runs jobs on the runtimes, each runtime taking the next job when it finishes one. */
export async function runJobs<J, R>(
  runtimes: readonly RuntimeHandle[],
  jobs: readonly J[],
  run: (runtime: RuntimeHandle, job: J, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(jobs.length);
  let next = 0;
  await Promise.all(
    runtimes.map(async (runtime) => {
      while (next < jobs.length) {
        const index = next++;
        results[index] = await run(runtime, jobs[index], index);
      }
    }),
  );
  return results;
}
