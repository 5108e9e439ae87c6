// Round isolation for the long-running roles: each unit of work (a publication of a round for the coprocessor, a
// finalized round for the custodian) runs on its own. A failure is recorded in the role's SQLite file with its
// reason and the role moves on to the next unit; the failed unit is retried later, after a delay that doubles with
// each attempt, so a poisoned round (a missing manifest, a blob that errors, a computation that throws) costs one
// attempt per delay and never stops another round or another program.
import { CipherShareError } from "@ciphershare/protocol/errors";
import type { StateStore } from "../state/store";

/** A unit of work that failed, as recorded: why, how often, and when it is tried again. */
export interface WorkFailure {
  readonly reason: string;
  readonly attempts: number;
  /** Milliseconds since the epoch. */
  readonly failedAt: number;
  readonly retryAt: number;
}

export type IsolatedOutcome<T> =
  | { readonly status: "done"; readonly value: T }
  | { readonly status: "failed"; readonly failure: WorkFailure }
  /** Failed before and not due again yet: not attempted. */
  | { readonly status: "deferred"; readonly failure: WorkFailure };

/** 30 s after the first failure, then doubling up to an hour. */
export const FIRST_RETRY_DELAY_MS = 30_000;
export const MAX_RETRY_DELAY_MS = 3_600_000;

/** The delay before attempt `attempts + 1` (pure). */
export function retryDelay(attempts: number, first: number = FIRST_RETRY_DELAY_MS): number {
  return Math.min(MAX_RETRY_DELAY_MS, first * 2 ** Math.max(0, attempts - 1));
}

/** One line naming what went wrong: a CipherShare error's message and the offending value, else the message. */
export function failureReason(error: unknown): string {
  if (error instanceof CipherShareError) {
    return error.details === undefined ? error.shortMessage : `${error.shortMessage} (${error.details})`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export interface IsolationOptions {
  /** Delay after the first failure (default `FIRST_RETRY_DELAY_MS`); 0 retries at every poll. */
  readonly firstRetryDelayMs?: number;
  readonly now?: () => number;
}

/** Runs units of work in isolation, recording each failure under `namespace` in the role's state. */
export class WorkIsolation {
  private readonly now: () => number;
  private readonly firstDelay: number;

  constructor(
    private readonly state: StateStore,
    private readonly namespace: string,
    options: IsolationOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.firstDelay = options.firstRetryDelayMs ?? FIRST_RETRY_DELAY_MS;
  }

  /** The recorded failure of unit `key`, if its last attempt failed. */
  failureOf(key: string): WorkFailure | undefined {
    return this.state.getValue(this.namespace, failureKey(key)) as WorkFailure | undefined;
  }

  /**
   * Runs `work` for unit `key` unless it failed before and is not due again; an exception is caught, recorded with
   * its reason and returned as `failed` (never rethrown), a success clears the record.
   */
  async run<T>(key: string, work: () => Promise<T>): Promise<IsolatedOutcome<T>> {
    const previous = this.failureOf(key);
    if (previous !== undefined && this.now() < previous.retryAt) return { status: "deferred", failure: previous };
    try {
      const value = await work();
      if (previous !== undefined) this.state.deleteValue(this.namespace, failureKey(key));
      return { status: "done", value };
    } catch (error) {
      const attempts = (previous?.attempts ?? 0) + 1;
      const failedAt = this.now();
      const failure: WorkFailure = {
        reason: failureReason(error),
        attempts,
        failedAt,
        retryAt: failedAt + (this.firstDelay === 0 ? 0 : retryDelay(attempts, this.firstDelay)),
      };
      this.state.setValue(this.namespace, failureKey(key), { ...failure });
      return { status: "failed", failure };
    }
  }
}

function failureKey(key: string): string {
  return `failure:${key}`;
}
