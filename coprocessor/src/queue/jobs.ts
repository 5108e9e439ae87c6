import { deserialize, serialize } from "node:v8";
import type { ConnectionOptions } from "bullmq";
import type { Hex } from "@ciphershare/protocol/hex";
import type { EvaluatorSetup } from "../shapley/encrypted/evaluator";
import { QueueError, QueueUrlError } from "./errors";

/** The one BullMQ queue of homomorphic jobs; every coprocessor and worker on a Redis shares it. */
export const HE_QUEUE_NAME = "ciphershare-he";

/**
 * One homomorphic job. Everything is named by keccak256 in the blob store both sides share (the coprocessor's
 * store): the program's key bundle by its on-chain manifest hash, the valuation's public setup, the models and the
 * projections. A worker keeps what it loaded and reloads only what a job names differently.
 */
export interface HeJobData {
  /** The round computed for (decimal): the store keeps the job's ciphertexts for its readers (`BlobPutOptions`). */
  readonly round?: string;
  /** Read grants for the round's blobs this job names: worker address (lowercase) → grant hash (queue/grants.ts). */
  readonly grants?: Readonly<Record<string, Hex>>;
  readonly parameterSetId: string;
  readonly bundleHash: Hex;
  readonly setupHash: Hex;
  readonly modelHashes: readonly Hex[];
  /**
   * False when every client submitted its projection: a worker then loads keys and models at `prepare` but encodes the
   * projection's diagonals only if a projection job comes (a client whose submission failed its check).
   */
  readonly prepareProjection?: boolean;
  /** Terms only: z_i for every client. */
  readonly projectionHashes?: readonly Hex[];
  readonly task:
    /** Load the keys, setup (diagonals) and models, compute nothing: `open` sends one per worker. */
    | { readonly type: "prepare" }
    | { readonly type: "project"; readonly index: number }
    /** Packed Gram terms (`shapley/encrypted/layout.ts#packedTerm`), two entries each. */
    | { readonly type: "terms"; readonly terms: readonly number[] }
    /** The consistency residual of submitted projections (by hash, fresh) under the challenges of `seed`. */
    | {
        readonly type: "check";
        readonly seed: Hex;
        readonly indices: readonly number[];
        readonly submittedHashes: readonly Hex[];
      }
    /** The terms jobs' partial sums (by hash) added up and stride-summed: the valuation's last job. */
    | { readonly type: "finish"; readonly partialHashes: readonly Hex[] };
}

/** A job's answer: the hash of the ciphertext the worker put into the blob store. */
export interface HeJobResult {
  readonly hash: Hex;
  /** Which worker ran it (host:pid), for logs and tests. */
  readonly worker: string;
  readonly milliseconds: number;
}

/** The public setup (R, XᵀY, the coefficient map) as a blob: V8's structured serialization keeps typed arrays exact. */
export function encodeSetup(setup: EvaluatorSetup): Uint8Array {
  return new Uint8Array(serialize(setup));
}

export function decodeSetup(bytes: Uint8Array): EvaluatorSetup {
  const value = deserialize(bytes) as EvaluatorSetup;
  if (!value || !(value.r?.data instanceof Float64Array) || !(value.xty?.data instanceof Float64Array)) {
    throw new QueueError("A homomorphic job named a blob that is not a valuation setup.");
  }
  return value;
}

/** redis://[:password@]host:port[/db] → BullMQ's connection options (blocking commands need no retry limit). */
export function redisConnection(url: string): ConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUrlError("--queue must be a redis:// URL.", { details: `got "${url}"` });
  }
  if (parsed.protocol !== "redis:" || parsed.hostname === "") {
    throw new QueueUrlError("--queue must be a redis:// URL.", { details: `got "${url}"` });
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new QueueUrlError("The Redis database number is not an integer.", { details: url });
  return {
    host: parsed.hostname,
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    password: parsed.password === "" ? undefined : decodeURIComponent(parsed.password),
    username: parsed.username === "" ? undefined : decodeURIComponent(parsed.username),
    db,
    maxRetriesPerRequest: null,
  };
}
