// How FedAvg is cut into queue jobs: per output chunk, consecutive ranges of the clients with a positive weight.
// Pure, so the plan is tested without Redis (test/coprocessor/queue/fedavg-plan.test.ts).
import { InvalidInputError } from "@ciphershare/protocol/errors";

/** Clients per FedAvg job by default: about a second of SEAL work per job at N = 16384. */
export const FEDAVG_CLIENTS_PER_JOB = 32;

/** One FedAvg job: Σ weight_i · chunk `chunk` of client i over `clients` (indices into the round's inputs, in order). */
export interface FedAvgJobPlan {
  readonly chunk: number;
  readonly clients: readonly number[];
}

/**
 * The jobs of one FedAvg: for each output chunk, the clients with a positive weight (a zero weight is skipped, as the
 * embedded aggregator skips it) split in order into ranges of at most `clientsPerJob`. The coordinator adds each
 * chunk's partial sums in this order; modular additions make the bytes the same as one sum over all clients.
 */
export function fedAvgJobPlan(
  weights: ArrayLike<number>,
  chunkCount: number,
  clientsPerJob: number = FEDAVG_CLIENTS_PER_JOB,
): FedAvgJobPlan[] {
  if (!Number.isSafeInteger(chunkCount) || chunkCount < 1) {
    throw new InvalidInputError("FedAvg needs at least one chunk.", { details: `chunkCount = ${chunkCount}` });
  }
  if (!Number.isSafeInteger(clientsPerJob) || clientsPerJob < 1) {
    throw new InvalidInputError("A FedAvg job must take at least one client.", {
      details: `clientsPerJob = ${clientsPerJob}`,
    });
  }
  const active = Array.from({ length: weights.length }, (_, i) => i).filter((i) => weights[i] > 0);
  if (active.length === 0) throw new InvalidInputError("FedAvg needs a client with a positive weight.");
  const jobs: FedAvgJobPlan[] = [];
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    for (let start = 0; start < active.length; start += clientsPerJob) {
      jobs.push({ chunk, clients: active.slice(start, start + clientsPerJob) });
    }
  }
  return jobs;
}
