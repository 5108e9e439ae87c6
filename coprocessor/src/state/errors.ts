import { CipherShareError } from "@ciphershare/protocol/errors";

/** The state database could not be opened, migrated, read or written. */
export class StateStoreError extends CipherShareError {
  override name = "StateStoreError";
}

/** Another process holds the state database: one owner per database, so no step is run twice. */
export class StateLockedError extends StateStoreError {
  override name = "StateLockedError";
}

/** A journaled step was resumed with different inputs than those recorded with its intent. */
export class StepConflictError extends StateStoreError {
  override name = "StepConflictError";
}
