import { randomUUID } from "node:crypto";
import { Queue, QueueEvents, type Job } from "bullmq";
import type { Hex } from "@ciphershare/protocol/hex";
import type { ValuationBackend, ValuationInputs } from "../shapley/encrypted/backend";
import type { BlobStore } from "../storage/blob-store";
import { QueueError } from "./errors";
import { queueWorkerAddresses, type ReadGrantIssuer } from "./grants";
import { encodeSetup, HE_QUEUE_NAME, redisConnection, type HeJobData, type HeJobResult } from "./jobs";

export interface QueueBackendOptions {
  /** redis://HOST:PORT */
  readonly queue: string;
  /** The blob store the workers read and write (the coprocessor's). */
  readonly store: BlobStore;
  /** The program's key hash (the bundle manifest's): workers load the evaluation keys by it. */
  readonly bundleHash: Hex;
  /** Attempts per job (a failed or stalled job is retried on any worker); default 3. */
  readonly attempts?: number;
  /** How long to wait for any worker before giving up; default 10 minutes. */
  readonly waitForWorkersMs?: number;
  /**
   * The round computed for: the models, projections and partial sums (copies and derivatives of its inputs) are
   * stored for its readers only, by the coordinator and by the workers (`BlobPutOptions.round`).
   */
  readonly round?: bigint;
  /** Signs the workers' read grants for the round's blobs (with `round`); none: workers read as the coprocessor. */
  readonly grants?: ReadGrantIssuer;
  /** Called as each job's result arrives: which worker ran it and for how long (benchmarks tally the split). */
  readonly onJob?: (job: QueueJobDone) => void;
}

/** A finished job as its worker reported it. */
export interface QueueJobDone {
  readonly type: HeJobData["task"]["type"];
  /** The worker's host:pid. */
  readonly worker: string;
  /** Time inside the worker, loading what the job names included. */
  readonly milliseconds: number;
}

/**
 * Fans a valuation's jobs out to BullMQ workers (`ciphershare coprocessor worker --queue …`, any machine) and gathers
 * their results from the blob store. The keys never travel through Redis: a job names them, and the setup, models and
 * projections, by hash.
 */
export async function queueBackend(options: QueueBackendOptions): Promise<ValuationBackend> {
  const connection = redisConnection(options.queue);
  const queue = new Queue<HeJobData, HeJobResult>(HE_QUEUE_NAME, { connection });
  const events = new QueueEvents(HE_QUEUE_NAME, { connection });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const workers = await waitForWorkers(queue, options.waitForWorkersMs ?? 600_000);
  const run = randomUUID();
  const restricted = { round: options.round };
  let base: Omit<HeJobData, "task" | "projectionHashes"> | undefined;

  let batches = 0; // a valuation may send several batches of one type (consistency checks): ids stay unique
  const fanOut = async (tasks: readonly HeJobData[], onDone: (index: number) => void) => {
    const batch = batches++;
    if (options.grants !== undefined && tasks.length > 0) {
      const first = tasks[0];
      const blobs = [...first.modelHashes, ...(first.projectionHashes ?? [])];
      if (first.task.type === "finish") blobs.push(...first.task.partialHashes);
      if (first.task.type === "check") blobs.push(...first.task.submittedHashes);
      const grants = await options.grants(await queueWorkerAddresses(queue), blobs);
      tasks = tasks.map((task) => ({ ...task, grants }));
    }
    const jobs: Job<HeJobData, HeJobResult>[] = await queue.addBulk(
      tasks.map((data, i) => ({
        name: data.task.type,
        data,
        opts: {
          jobId: `${run}-${batch}-${data.task.type}-${i}`,
          attempts: options.attempts ?? 3,
          backoff: { type: "fixed", delay: 500 },
          removeOnComplete: true,
          removeOnFail: 100,
        },
      })),
    );
    return Promise.all(
      jobs.map(async (job, index) => {
        const result = (await job.waitUntilFinished(events)) as HeJobResult;
        options.onJob?.({ type: tasks[index].task.type, worker: result.worker, milliseconds: result.milliseconds });
        const bytes = await options.store.get(result.hash);
        onDone(index);
        return bytes;
      }),
    );
  };

  return {
    parallelism: workers,
    async open(inputs: ValuationInputs) {
      // The setup is public data (R, XᵀY of the public validation set); the models are the round's inputs.
      const setupHash = await options.store.put(encodeSetup(inputs.setup));
      const modelHashes: Hex[] = [];
      for (const model of inputs.models) modelHashes.push(await options.store.put(model, restricted));
      base = {
        ...(options.round === undefined ? {} : { round: `${options.round}` }),
        parameterSetId: inputs.parameterSetId,
        bundleHash: options.bundleHash,
        setupHash,
        modelHashes,
        ...(inputs.prepareProjection === false ? { prepareProjection: false } : {}),
      };
      // One warm-up job per connected worker (each takes one while the others are busy loading): keys, diagonals and
      // models load here, in the setup phase, not inside a worker's first projection.
      const shared = base;
      await fanOut(
        Array.from({ length: workers }, () => ({ ...shared, task: { type: "prepare" as const } })),
        () => {},
      );
    },
    project(indices, onDone) {
      const shared = opened(base);
      return fanOut(
        indices.map((index) => ({ ...shared, task: { type: "project" as const, index } })),
        () => onDone(),
      );
    },
    async terms(projections, jobs, onDone) {
      const shared = opened(base);
      const projectionHashes: Hex[] = [];
      for (const projection of projections) projectionHashes.push(await options.store.put(projection, restricted));
      return fanOut(
        jobs.map((terms) => ({ ...shared, projectionHashes, task: { type: "terms" as const, terms } })),
        (index) => onDone(jobs[index].length),
      );
    },
    async check(seed, indices, submitted) {
      const shared = opened(base);
      const submittedHashes: Hex[] = [];
      for (const projection of submitted) submittedHashes.push(await options.store.put(projection, restricted));
      const task = { type: "check" as const, seed, indices: [...indices], submittedHashes };
      const [residual] = await fanOut([{ ...shared, task }], () => {});
      return residual;
    },
    async finish(partials) {
      const shared = opened(base);
      const partialHashes: Hex[] = [];
      for (const partial of partials) partialHashes.push(await options.store.put(partial, restricted));
      const [finished] = await fanOut([{ ...shared, task: { type: "finish" as const, partialHashes } }], () => {});
      return finished;
    },
    close: async () => {
      await events.close();
      await queue.close();
    },
  };
}

function opened<T>(base: T | undefined): T {
  if (base === undefined) throw new QueueError("The queue backend was used before open().");
  return base;
}

/** The number of workers connected to the queue, waiting until there is at least one. */
export async function waitForWorkers(queue: Queue, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = (await queue.getWorkers()).length;
    if (count > 0) return count;
    if (Date.now() > deadline) {
      throw new QueueError("No worker is connected to the queue.", {
        details: `waited ${timeoutMs} ms; start one with \`ciphershare coprocessor worker --queue …\``,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
