import type { DatabaseSync as DatabaseSyncType, DatabaseSyncOptions } from "node:sqlite";

type SqliteModule = typeof import("node:sqlite");

let sqlite: SqliteModule | undefined;

/**
 * Loads Node 22's built-in `node:sqlite` (no native addon to build). Node 22 flags it experimental and
 * prints an ExperimentalWarning on first load; that single warning is dropped, every other warning
 * still goes through.
 */
export function loadSqlite(): SqliteModule {
  if (sqlite !== undefined) return sqlite;
  const emitWarning = process.emitWarning;
  process.emitWarning = function filterSqliteWarning(
    this: NodeJS.Process,
    warning: string | Error,
    ...rest: unknown[]
  ) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const message = typeof warning === "string" ? warning : warning.message;
    if (type === "ExperimentalWarning" && /SQLite/i.test(message)) return;
    return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    sqlite = process.getBuiltinModule("node:sqlite");
  } finally {
    process.emitWarning = emitWarning;
  }
  return sqlite;
}

export function openDatabase(path: string, options: DatabaseSyncOptions = {}): DatabaseSyncType {
  const { DatabaseSync } = loadSqlite();
  return new DatabaseSync(path, options);
}

export type { DatabaseSyncType as Database };
