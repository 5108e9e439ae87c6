import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Hex } from "@ciphershare/protocol/hex";
import { StateLockedError, StateStoreError, StepConflictError } from "./errors";
import { MIGRATIONS, type Migration } from "./schema";
import { openDatabase, type Database } from "./sqlite";

/**
 * Life of a journaled step:
 * - `intent`: about to run; for an on-chain step nothing was ever broadcast (a transaction is broadcast
 *   only after its hash is recorded), so it is safe to sign and send.
 * - `sent`: a signed transaction (hash, raw bytes, nonce) is recorded and may be on the network; resume
 *   looks up its receipt or rebroadcasts the same bytes, never signs a new transaction for the step.
 * - `confirmed`: done, with the hash of its output; terminal.
 * - `failed`: reverted or threw; a later run starts a new attempt from `intent`.
 */
export type StepStatus = "intent" | "sent" | "confirmed" | "failed";

export interface StepRecord {
  round: number;
  step: string;
  status: StepStatus;
  /** Hash of the step's inputs, recorded with the intent; a resume with other inputs is refused. */
  inputHash: Hex | null;
  txHash: Hex | null;
  rawTransaction: Hex | null;
  nonce: number | null;
  outputHash: Hex | null;
  blockNumber: number | null;
  /** 1 for the first attempt, +1 each time the step restarts after `failed` or a replaced transaction. */
  attempts: number;
  error: string | null;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  updatedAt: number;
}

/** One contributor's released (flooded) Shapley value for a round. */
export interface ReleasedScore {
  readonly contributor: string;
  readonly phi: number;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface StateStoreOptions {
  /** Clock in ms since the epoch (tests inject one). */
  now?: () => number;
  /** How long to wait for a lock held by another connection before refusing (default 0: refuse at once). */
  busyTimeoutMs?: number;
  /**
   * The schema to migrate to (default `MIGRATIONS`). A role with tables of its own passes
   * `[...MIGRATIONS, ...its own]`, numbered after them.
   */
  migrations?: readonly Migration[];
}

interface StepRow {
  round: number;
  step: string;
  status: StepStatus;
  input_hash: string | null;
  tx_hash: string | null;
  raw_transaction: string | null;
  nonce: number | null;
  output_hash: string | null;
  block_number: number | null;
  attempts: number;
  error: string | null;
  created_at: number;
  updated_at: number;
}

const ALLOWED_TRANSITIONS: Record<StepStatus, readonly StepStatus[]> = {
  intent: ["sent", "confirmed", "failed"],
  sent: ["confirmed", "failed", "intent"],
  confirmed: [],
  failed: ["intent"],
};

/**
 * The durable state of one coprocessor or custodian process: a journal of steps per round and a few
 * settings, in one SQLite file (WAL, synchronous=FULL).
 *
 * One owner per file: the connection takes SQLite's lock in exclusive locking mode at open and keeps it
 * until `close()` or process death (the OS drops the lock with the process, so a crash never leaves a
 * stale lock). A second process, or a second connection, is refused with `StateLockedError`; two
 * writers could otherwise both decide to send the same on-chain step.
 */
export class StateStore {
  readonly path: string;
  readonly #db: Database;
  readonly #now: () => number;
  #closed = false;
  #transactionDepth = 0;

  private constructor(path: string, db: Database, now: () => number) {
    this.path = path;
    this.#db = db;
    this.#now = now;
  }

  /** Opens (creating if needed) and migrates the database at `path`; `":memory:"` for a throwaway one. */
  static open(path: string, options: StateStoreOptions = {}): StateStore {
    let db: Database;
    try {
      db = openDatabase(path, { timeout: options.busyTimeoutMs ?? 0 });
    } catch (error) {
      throw new StateStoreError("Could not open the state database.", { details: path, cause: error });
    }
    try {
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      // Take the write lock now rather than at the first step, so a second owner is refused at open.
      db.exec("BEGIN IMMEDIATE");
      db.exec("COMMIT");
    } catch (error) {
      db.close();
      if (isBusy(error)) {
        throw new StateLockedError("The state database is in use by another process.", {
          details: `${path}: stop the other coprocessor/custodian process, or give this one its own database`,
          cause: error,
        });
      }
      throw new StateStoreError("Could not open the state database.", { details: path, cause: error });
    }
    const store = new StateStore(path, db, options.now ?? Date.now);
    try {
      store.#migrate(options.migrations ?? MIGRATIONS);
    } catch (error) {
      db.close();
      throw error;
    }
    return store;
  }

  /** Highest migration applied to this database. */
  get schemaVersion(): number {
    const row = this.#db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as {
      version: number | null;
    };
    return row.version ?? 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /**
   * Runs `work` atomically: in a transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on throw), or in a
   * savepoint when already inside one, so the accessors compose.
   */
  transaction<T>(work: () => T): T {
    const depth = this.#transactionDepth++;
    const savepoint = `nested_${depth}`;
    this.#db.exec(depth === 0 ? "BEGIN IMMEDIATE" : `SAVEPOINT ${savepoint}`);
    try {
      const result = work();
      this.#db.exec(depth === 0 ? "COMMIT" : `RELEASE ${savepoint}`);
      return result;
    } catch (error) {
      this.#db.exec(depth === 0 ? "ROLLBACK" : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
      throw error;
    } finally {
      this.#transactionDepth--;
    }
  }

  // ---------------------------------------------------------------------------------------------- journal

  getStep(round: number, step: string): StepRecord | undefined {
    assertStepKey(round, step);
    const row = this.#db.prepare("SELECT * FROM steps WHERE round = ? AND step = ?").get(round, step) as
      StepRow | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  /** Steps of one round (or of all rounds), in the order their intents were first recorded. */
  listSteps(round?: number): StepRecord[] {
    const rows = (round === undefined
      ? this.#db.prepare("SELECT * FROM steps ORDER BY rowid").all()
      : this.#db.prepare("SELECT * FROM steps WHERE round = ? ORDER BY rowid").all(round)) as unknown as StepRow[];
    return rows.map(toRecord);
  }

  /** Steps a restarted process must finish before starting new ones (`intent` or `sent`), oldest first. */
  unfinishedSteps(): StepRecord[] {
    const rows = this.#db
      .prepare("SELECT * FROM steps WHERE status IN ('intent', 'sent') ORDER BY rowid")
      .all() as unknown as StepRow[];
    return rows.map(toRecord);
  }

  /**
   * Records the intent to run a step, or returns the step as journaled if it already exists (whatever
   * its status: the caller resumes from there). A step journaled with another `inputHash` is refused.
   */
  recordIntent(round: number, step: string, options: { inputHash?: Hex } = {}): StepRecord {
    assertStepKey(round, step);
    const inputHash = options.inputHash ?? null;
    return this.transaction(() => {
      const existing = this.getStep(round, step);
      if (existing !== undefined) {
        if (existing.inputHash !== inputHash) {
          throw new StepConflictError(`Step "${step}" of round ${round} was started with other inputs.`, {
            details: `journaled inputHash ${existing.inputHash}, now ${inputHash}`,
          });
        }
        return existing;
      }
      const now = this.#now();
      this.#db
        .prepare(
          "INSERT INTO steps (round, step, status, input_hash, created_at, updated_at) VALUES (?, ?, 'intent', ?, ?, ?)",
        )
        .run(round, step, inputHash, now, now);
      return this.getStep(round, step) as StepRecord;
    });
  }

  /** Records the signed transaction of an on-chain step, before it is broadcast. */
  recordSent(
    round: number,
    step: string,
    transaction: { txHash: Hex; rawTransaction: Hex; nonce: number },
  ): StepRecord {
    return this.#transition(round, step, "sent", {
      tx_hash: transaction.txHash,
      raw_transaction: transaction.rawTransaction,
      nonce: transaction.nonce,
    });
  }

  /** Marks a step done. Confirming an already confirmed step with the same output is a no-op. */
  recordConfirmed(
    round: number,
    step: string,
    result: { outputHash?: Hex; blockNumber?: number; txHash?: Hex } = {},
  ): StepRecord {
    const existing = this.#requireStep(round, step);
    if (existing.status === "confirmed" && (result.outputHash ?? null) === existing.outputHash) return existing;
    return this.#transition(round, step, "confirmed", {
      output_hash: result.outputHash ?? null,
      block_number: result.blockNumber ?? null,
      ...(result.txHash !== undefined ? { tx_hash: result.txHash } : {}),
      error: null,
    });
  }

  recordFailed(round: number, step: string, error: string): StepRecord {
    return this.#transition(round, step, "failed", { error });
  }

  /**
   * Starts a new attempt of a `failed` step, or of a `sent` step whose transaction can never be mined
   * (its nonce was used by another transaction): back to `intent`, transaction fields cleared.
   */
  restartStep(round: number, step: string): StepRecord {
    const existing = this.#requireStep(round, step);
    return this.#transition(round, step, "intent", {
      tx_hash: null,
      raw_transaction: null,
      nonce: null,
      attempts: existing.attempts + 1,
    });
  }

  // --------------------------------------------------------------------------------------------- settings

  /** Stores a JSON value (contract addresses, key ids, the last processed block…) under namespace/key. */
  setValue(namespace: string, key: string, value: JsonValue): void {
    this.#db
      .prepare(
        `INSERT INTO settings (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      )
      .run(namespace, key, JSON.stringify(value), this.#now());
  }

  getValue<T extends JsonValue = JsonValue>(namespace: string, key: string): T | undefined {
    const row = this.#db.prepare("SELECT value FROM settings WHERE namespace = ? AND key = ?").get(namespace, key) as
      { value: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }

  deleteValue(namespace: string, key: string): void {
    this.#db.prepare("DELETE FROM settings WHERE namespace = ? AND key = ?").run(namespace, key);
  }

  // ------------------------------------------------------------------------------------------------ scores

  /** Records a round's released φ, one per included contributor in commit order (replacing any earlier record). */
  recordScores(round: number, scores: readonly ReleasedScore[]): void {
    assertStepKey(round, "scores");
    scores.forEach((score, position) => {
      if (!Number.isFinite(score.phi)) {
        throw new InvalidInputError("A released score must be a finite number.", {
          details: `round ${round}, position ${position}: ${score.phi}`,
        });
      }
    });
    this.transaction(() => {
      this.#db.prepare("DELETE FROM released_scores WHERE round = ?").run(round);
      const insert = this.#db.prepare(
        "INSERT INTO released_scores (round, position, contributor, phi) VALUES (?, ?, ?, ?)",
      );
      scores.forEach((score, position) => insert.run(round, position, score.contributor, score.phi));
    });
  }

  /** A round's released φ in commit order, or undefined when none was recorded. */
  scoresOf(round: number): ReleasedScore[] | undefined {
    const rows = this.#db
      .prepare("SELECT contributor, phi FROM released_scores WHERE round = ? ORDER BY position")
      .all(round) as unknown as ReleasedScore[];
    return rows.length === 0 ? undefined : rows.map((row) => ({ contributor: row.contributor, phi: row.phi }));
  }

  // ------------------------------------------------------------------------------------------- internals

  #requireStep(round: number, step: string): StepRecord {
    const existing = this.getStep(round, step);
    if (existing === undefined) {
      throw new StateStoreError(`Step "${step}" of round ${round} has no recorded intent.`, {
        details: "call recordIntent first",
      });
    }
    return existing;
  }

  #transition(
    round: number,
    step: string,
    to: StepStatus,
    fields: Partial<Record<keyof StepRow, string | number | null>>,
  ): StepRecord {
    return this.transaction(() => {
      const existing = this.#requireStep(round, step);
      if (!ALLOWED_TRANSITIONS[existing.status].includes(to)) {
        throw new StepConflictError(`Step "${step}" of round ${round} cannot go from ${existing.status} to ${to}.`, {
          details: JSON.stringify(existing),
        });
      }
      const columns = Object.keys(fields);
      const assignments = ["status = ?", "updated_at = ?", ...columns.map((column) => `${column} = ?`)].join(", ");
      this.#db
        .prepare(`UPDATE steps SET ${assignments} WHERE round = ? AND step = ?`)
        .run(to, this.#now(), ...columns.map((column) => fields[column as keyof StepRow] ?? null), round, step);
      return this.getStep(round, step) as StepRecord;
    });
  }

  #migrate(migrations: readonly Migration[]): void {
    this.#db.exec(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    );
    const current = this.schemaVersion;
    const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
    if (current > latest) {
      throw new StateStoreError("The state database was written by a newer CipherShare.", {
        details: `${this.path}: schema version ${current}, this build knows up to ${latest}`,
      });
    }
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      this.transaction(() => {
        this.#db.exec(migration.sql);
        this.#db
          .prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)")
          .run(migration.version, this.#now());
      });
    }
  }
}

function toRecord(row: StepRow): StepRecord {
  return {
    round: row.round,
    step: row.step,
    status: row.status,
    inputHash: row.input_hash as Hex | null,
    txHash: row.tx_hash as Hex | null,
    rawTransaction: row.raw_transaction as Hex | null,
    nonce: row.nonce,
    outputHash: row.output_hash as Hex | null,
    blockNumber: row.block_number,
    attempts: row.attempts,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function assertStepKey(round: number, step: string): void {
  if (!Number.isSafeInteger(round) || round < 0) {
    throw new InvalidInputError("A round must be a non-negative integer.", { details: `round: ${round}` });
  }
  if (step.length === 0)
    throw new InvalidInputError("A step needs a name.", { details: `step: ${JSON.stringify(step)}` });
}

function isBusy(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /database is locked|SQLITE_BUSY/i.test(message);
}
