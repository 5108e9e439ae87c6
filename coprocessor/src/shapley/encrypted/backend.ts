import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Hex } from "@ciphershare/protocol/hex";
import type { EvaluatorSetup } from "./evaluator";
import { packedTermCount } from "./layout";
import { openRuntimes, runJobs, type RuntimeHandle } from "./pool";
import type { RuntimeResponse } from "./runtime";

/** What every job of one encrypted valuation shares: keys, public setup and the clients' ciphertexts. */
export interface ValuationInputs {
  readonly parameterSetId: string;
  /** The whole public bundle's bytes (`serializePublicBundle`); a queue backend names it by its hash instead. */
  readonly bundle: Uint8Array;
  readonly setup: EvaluatorSetup;
  /** Each client's fresh ciphertext of vec(w_i). */
  readonly models: readonly Uint8Array[];
  /** False when every client submitted its projection: workers then encode the diagonals only if they must project. */
  readonly prepareProjection?: boolean;
}

/**
 * Where the homomorphic jobs of a valuation run: worker threads of this process (`threadBackend`, the embedded
 * default) or processes on any machine pulling jobs from a queue (`queue/backend.ts`). Every job is a pure function
 * of its inputs, and ciphertext sums are exact modular additions, so the outputs are byte-identical whatever the
 * backend, the number of workers and how the terms are split into jobs.
 */
export interface ValuationBackend {
  /** Jobs that run at once (threads or live workers): the terms are split into a few jobs per slot. */
  readonly parallelism: number;
  open(inputs: ValuationInputs): Promise<void>;
  /** z_i = (R⊗I)·w_i for each index, in the order given. */
  project(indices: readonly number[], onDone: () => void): Promise<Uint8Array[]>;
  /** One partial sum of masked Gram terms per job (a list of packed terms, `layout.ts#packedTerm`), in the order given. */
  terms(
    projections: readonly Uint8Array[],
    jobs: readonly (readonly number[])[],
    onDone: (terms: number) => void,
  ): Promise<Uint8Array[]>;
  /**
   * The consistency residual of submitted projections (fresh ciphertexts, one per index) under the challenges of
   * `seed` (`consistency.ts`): one job. Backends without it make the pipeline project every client itself.
   */
  check?(seed: Hex, indices: readonly number[], submitted: readonly Uint8Array[]): Promise<Uint8Array>;
  /** The partial sums added up and stride-summed (`EncryptedShapleyEvaluator.finishScores`): one job. */
  finish(partials: readonly Uint8Array[]): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** The embedded backend: `count` worker threads with their own SEAL instance, or the calling thread for 0. */
export function threadBackend(count = 2): ValuationBackend {
  const runtimes: RuntimeHandle[] = openRuntimes(count);
  return {
    parallelism: runtimes.length,
    async open(inputs) {
      await Promise.all(
        runtimes.map(async (runtime) => {
          await runtime.request({
            type: "init",
            parameterSetId: inputs.parameterSetId,
            bundle: inputs.bundle,
            setup: inputs.setup,
            prepareProjection: inputs.prepareProjection,
          });
          await runtime.request({ type: "models", models: [...inputs.models] });
        }),
      );
    },
    project: (indices, onDone) =>
      runJobs(runtimes, indices, async (runtime, index) => {
        const bytes = ciphertextOf(await runtime.request({ type: "project", index }));
        onDone();
        return bytes;
      }),
    async terms(projections, jobs, onDone) {
      await Promise.all(
        runtimes.map((runtime) => runtime.request({ type: "projections", projections: [...projections] })),
      );
      return runJobs(runtimes, jobs, async (runtime, terms) => {
        const bytes = ciphertextOf(await runtime.request({ type: "terms", terms: [...terms] }));
        onDone(terms.length);
        return bytes;
      });
    },
    check: async (seed, indices, submitted) =>
      ciphertextOf(
        await runtimes[0].request({ type: "check", seed, indices: [...indices], submitted: [...submitted] }),
      ),
    finish: async (partials) => ciphertextOf(await runtimes[0].request({ type: "finish", partials: [...partials] })),
    close: async () => {
      await Promise.all(runtimes.map((runtime) => runtime.close()));
    },
  };
}

export function ciphertextOf(response: RuntimeResponse): Uint8Array {
  if (response.type !== "ciphertext") throw new InvalidInputError("A Shapley worker returned no ciphertext.");
  return response.bytes;
}

/**
 * Deals the packed Gram terms (two entries each, `layout.ts#packedTerm`) round-robin into `count` jobs of similar cost.
 * The pairing of entries is fixed, only the terms are dealt, so the partial sums add to the same bytes.
 */
export function termJobs(entries: number, count: number): number[][] {
  const terms = packedTermCount(entries);
  const jobs = Array.from({ length: Math.max(1, Math.min(terms, count)) }, () => [] as number[]);
  for (let term = 0; term < terms; term++) jobs[term % jobs.length].push(term);
  return jobs;
}
