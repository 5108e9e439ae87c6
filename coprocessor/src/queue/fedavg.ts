// FedAvg on the BullMQ queue: the coordinator (`coprocessor run --queue`) cuts a round's FedAvg into jobs (per output
// chunk, a range of clients: fedavg-plan.ts), any worker computes a job's weighted partial sum, the coordinator adds
// the partial sums in order and finishes each chunk as the embedded aggregator does. Ciphertext additions are exact
// modular additions, so the envelope is byte for byte the embedded one (the auditor recomputes it embedded).
import { randomUUID } from "node:crypto";
import { Queue, QueueEvents, type Job } from "bullmq";
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { EnvelopeKind, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { deleteAll, sealCall } from "@ciphershare/protocol/ckks/seal";
import type { Hex } from "@ciphershare/protocol/hex";
import {
  aggregateEnvelope,
  fedAvgInputs,
  finishAggregateChunk,
  weightedSumInto,
  type EncryptedClientUpdate,
} from "../fedavg/homomorphic";
import type { BlobStore } from "../storage/blob-store";
import { waitForWorkers } from "./backend";
import { QueueError } from "./errors";
import { fedAvgJobPlan } from "./fedavg-plan";
import { queueWorkerAddresses, type ReadGrantIssuer } from "./grants";
import { HE_QUEUE_NAME, redisConnection, type HeJobResult } from "./jobs";

/** The BullMQ job name of a FedAvg partial sum (on the same queue as the valuation's jobs). */
export const FEDAVG_JOB = "fedavg";

/** One FedAvg job: Σ weights[k] · chunk `chunk` of the envelope named envelopeHashes[k], in order. */
export interface FedAvgJobData {
  readonly type: "fedavg";
  /** The round computed for (decimal): the partial sum is stored for its readers only. */
  readonly round?: string;
  /** Read grants for this job's envelopes: worker address (lowercase) → grant hash (queue/grants.ts). */
  readonly grants?: Readonly<Record<string, Hex>>;
  readonly parameterSetId: string;
  /** The program's key hash every envelope must name. */
  readonly publicBundleHash: Hex;
  readonly chunk: number;
  /** The job's contributions, by keccak256 in the coprocessor's blob store. */
  readonly envelopeHashes: readonly Hex[];
  /** Their FedAvg weights m_i / Σm (positive; JSON keeps a double exact). */
  readonly weights: readonly number[];
}

/**
 * A worker's side of a FedAvg job: reads the envelopes, checks them against the round (kind, parameter set, bundle),
 * computes the weighted partial sum, puts the ciphertext into the store and returns its hash.
 */
export async function runFedAvgJob(ctx: CkksContext, store: BlobStore, data: FedAvgJobData): Promise<Hex> {
  if (data.envelopeHashes.length !== data.weights.length || data.envelopeHashes.length === 0) {
    throw new QueueError("A FedAvg job must name as many envelopes as weights, at least one.", {
      details: `${data.envelopeHashes.length} envelopes, ${data.weights.length} weights`,
    });
  }
  const expectations = {
    kind: EnvelopeKind.Contribution,
    parameterSetId: data.parameterSetId,
    publicBundleHash: data.publicBundleHash,
  };
  const clients = [];
  for (const [k, hash] of data.envelopeHashes.entries()) {
    clients.push({ envelope: await parseEnvelope(await store.get(hash), expectations), weight: data.weights[k] });
  }
  const sum = new ctx.seal.Ciphertext();
  try {
    weightedSumInto(ctx, clients, data.chunk, sum);
    return await store.put(ctx.saveCiphertext(sum), {
      round: data.round === undefined ? undefined : BigInt(data.round),
    });
  } finally {
    deleteAll(sum);
  }
}

export interface QueueFedAvgOptions {
  /** redis://HOST:PORT */
  readonly queue: string;
  /** The blob store the workers read and write (the coprocessor's). */
  readonly store: BlobStore;
  /** Every input must be encrypted under this bundle (the program's on-chain bundle hash). */
  readonly publicBundleHash: Hex;
  /** Clients per job; default `FEDAVG_CLIENTS_PER_JOB`. */
  readonly clientsPerJob?: number;
  /** Attempts per job (a failed or stalled job is retried on any worker); default 3. */
  readonly attempts?: number;
  /** How long to wait for any worker; default 10 minutes. */
  readonly waitForWorkersMs?: number;
  /** The round computed for: its envelopes' copies and the partial sums are stored for its readers only. */
  readonly round?: bigint;
  /** Signs the workers' read grants for each job's envelopes; none: workers read as the coprocessor. */
  readonly grants?: ReadGrantIssuer;
}

/**
 * `fedAvgEncrypted` with the weighted sums computed by queue workers: the same validation here first (every envelope
 * parsed and checked), then one job per chunk and client range, then the partial sums added in order and each chunk
 * rescaled (and switched down) here. Returns the same envelope bytes as the embedded aggregator.
 */
export async function queueFedAvg(
  ctx: CkksContext,
  clients: readonly (EncryptedClientUpdate & { readonly envelope: Uint8Array })[],
  options: QueueFedAvgOptions,
): Promise<Uint8Array> {
  const { envelopes, weights, chunkCount } = await fedAvgInputs(ctx, clients, options.publicBundleHash);
  const hashes: Hex[] = [];
  for (const client of clients) hashes.push(await options.store.put(client.envelope, { round: options.round }));
  const plan = fedAvgJobPlan(weights, chunkCount, options.clientsPerJob);

  const connection = redisConnection(options.queue);
  const queue = new Queue<FedAvgJobData, HeJobResult>(HE_QUEUE_NAME, { connection });
  const events = new QueueEvents(HE_QUEUE_NAME, { connection });
  // Each job waited for listens on the queue while it runs: a round has more than EventEmitter's default 10.
  queue.setMaxListeners(plan.length + 10);
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    await waitForWorkers(queue, options.waitForWorkersMs ?? 600_000);
    const run = randomUUID();
    const workers = options.grants === undefined ? [] : await queueWorkerAddresses(queue);
    const grants = await Promise.all(
      plan.map(
        (job) =>
          options.grants?.(
            workers,
            job.clients.map((k) => hashes[k]),
          ) ?? Promise.resolve(undefined),
      ),
    );
    const jobs: Job<FedAvgJobData, HeJobResult>[] = await queue.addBulk(
      plan.map((job, i) => ({
        name: FEDAVG_JOB,
        data: {
          type: "fedavg" as const,
          ...(options.round === undefined ? {} : { round: `${options.round}` }),
          ...(grants[i] === undefined ? {} : { grants: grants[i] }),
          parameterSetId: ctx.parameterSet.id,
          publicBundleHash: options.publicBundleHash,
          chunk: job.chunk,
          envelopeHashes: job.clients.map((k) => hashes[k]),
          weights: job.clients.map((k) => weights[k]),
        },
        opts: {
          jobId: `${run}-fedavg-${i}`,
          attempts: options.attempts ?? 3,
          backoff: { type: "fixed", delay: 500 },
          removeOnComplete: true,
          removeOnFail: 100,
        },
      })),
    );
    const partials = await Promise.all(
      jobs.map(async (job) => options.store.get(((await job.waitUntilFinished(events)) as HeJobResult).hash)),
    );

    const outputChunks: Uint8Array[] = [];
    let output = { scale: 0, level: 0 };
    for (let chunk = 0; chunk < chunkCount; chunk++) {
      const mine = partials.filter((_, i) => plan[i].chunk === chunk);
      const sum = ctx.loadCiphertext(mine[0]);
      try {
        for (const bytes of mine.slice(1)) {
          const partial = ctx.loadCiphertext(bytes);
          try {
            sealCall("add partial FedAvg sums", () => ctx.evaluator.addInplace(sum, partial));
          } finally {
            deleteAll(partial);
          }
        }
        output = finishAggregateChunk(ctx, sum);
        outputChunks.push(ctx.saveCiphertext(sum));
      } finally {
        deleteAll(sum);
      }
    }
    return await aggregateEnvelope(ctx, envelopes[0], output, outputChunks);
  } finally {
    await events.close();
    await queue.close();
  }
}
