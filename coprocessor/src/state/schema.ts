/**
 * Schema migrations of the state database, applied in order, each in its own transaction, and recorded
 * in `schema_version`. Append new migrations; never edit a released one.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "step journal and key-value settings",
    sql: `
      CREATE TABLE steps (
        round INTEGER NOT NULL,
        step TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('intent', 'sent', 'confirmed', 'failed')),
        input_hash TEXT,
        tx_hash TEXT,
        raw_transaction TEXT,
        nonce INTEGER,
        output_hash TEXT,
        block_number INTEGER,
        attempts INTEGER NOT NULL DEFAULT 1,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (round, step)
      );
      CREATE INDEX steps_unfinished ON steps (status) WHERE status IN ('intent', 'sent');
      CREATE TABLE settings (
        namespace TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, key)
      );
    `,
  },
  {
    version: 2,
    description: "the custodian's released scores: φ per included contributor, in commit order",
    sql: `
      CREATE TABLE released_scores (
        round INTEGER NOT NULL,
        position INTEGER NOT NULL CHECK (position >= 0),
        contributor TEXT NOT NULL,
        phi REAL NOT NULL,
        PRIMARY KEY (round, position)
      );
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
