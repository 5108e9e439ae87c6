import { StateStoreError } from "./errors";
import type { Hex } from "@ciphershare/protocol/hex";
import type { StateStore, StepRecord } from "./store";

/** A signed, not yet broadcast transaction: its hash is known before it can reach the network. */
export interface SignedTransaction {
  txHash: Hex;
  rawTransaction: Hex;
  nonce: number;
}

export interface TransactionOutcome {
  status: "success" | "reverted";
  blockNumber: number;
  /** What the step produced, if the driver can tell (e.g. keccak of an emitted handle); else the tx hash. */
  outputHash?: Hex;
}

/**
 * What the journal needs from a chain to run one on-chain step exactly once. `chain/transactionDriver.ts`
 * implements it with an ethers wallet; the journal itself knows nothing of ethers or viem.
 */
export interface TransactionDriver {
  /** Builds and signs the step's transaction with the account's next nonce, without sending it. */
  sign(): Promise<SignedTransaction>;
  /** Sends signed bytes; sending bytes the node already has must not be an error the caller sees. */
  broadcast(rawTransaction: Hex): Promise<void>;
  /** The receipt of a mined transaction, or null if the chain does not know it (yet). */
  receipt(txHash: Hex): Promise<TransactionOutcome | null>;
  waitForReceipt(txHash: Hex): Promise<TransactionOutcome>;
  /** True once a transaction with this nonce from the account was mined (ours or another). */
  isNonceUsed(nonce: number): Promise<boolean>;
}

/** The on-chain transaction of a journaled step reverted; the step is recorded `failed`. */
export class StepRevertedError extends StateStoreError {
  override name = "StepRevertedError";
}

/**
 * What a process should do with a step as journaled (pure):
 * - `run`: nothing recorded yet, or an intent whose transaction was never signed-and-recorded (so
 *   never broadcast): run it from the start.
 * - `retry`: it failed before; start a new attempt.
 * - `await-transaction`: a signed transaction is recorded; find its receipt or rebroadcast the same bytes.
 * - `done`: confirmed; use its output, do not run it again.
 */
export type ResumeAction = "run" | "retry" | "await-transaction" | "done";

export function resumeAction(record: StepRecord | undefined): ResumeAction {
  if (record === undefined) return "run";
  switch (record.status) {
    case "intent":
      return "run";
    case "sent":
      return "await-transaction";
    case "confirmed":
      return "done";
    case "failed":
      return "retry";
  }
}

export interface StepKey {
  round: number;
  step: string;
  /** Hash of the step's inputs; resuming with other inputs is refused (`StepConflictError`). */
  inputHash?: Hex;
}

/**
 * Runs an off-chain step at most once to completion: intent → work → confirmed with its output hash.
 * A crash during `work` leaves the intent, and the next run repeats `work` — so `work` must be
 * deterministic or idempotent (compute, write a content-addressed blob). A confirmed step is skipped.
 */
export async function runStep(store: StateStore, key: StepKey, work: () => Promise<Hex>): Promise<StepRecord> {
  let record = store.recordIntent(key.round, key.step, { inputHash: key.inputHash });
  if (record.status === "confirmed") return record;
  if (record.status === "failed") record = store.restartStep(key.round, key.step);
  let outputHash: Hex;
  try {
    outputHash = await work();
  } catch (error) {
    store.recordFailed(key.round, key.step, error instanceof Error ? error.message : String(error));
    throw error;
  }
  return store.recordConfirmed(key.round, key.step, { outputHash });
}

/**
 * Runs an on-chain step exactly once across crashes and restarts:
 * record intent → sign → record the signed transaction (hash, bytes, nonce) → broadcast → wait for the
 * receipt → record confirmed. Because the hash is journaled before the bytes can reach the network, a
 * process killed at any point resumes without a second transaction for the step: it rebroadcasts the
 * same bytes (same nonce, so at most one can ever be mined) or reads the receipt. Only if that nonce was
 * used by another transaction (ours can then never be mined) does it sign again, as a new attempt.
 */
export async function runOnChainStep(store: StateStore, key: StepKey, driver: TransactionDriver): Promise<StepRecord> {
  let record = store.recordIntent(key.round, key.step, { inputHash: key.inputHash });
  for (;;) {
    switch (resumeAction(record)) {
      case "done":
        return record;
      case "retry":
        record = store.restartStep(key.round, key.step);
        break;
      case "run": {
        const signed = await driver.sign();
        record = store.recordSent(key.round, key.step, signed);
        await driver.broadcast(signed.rawTransaction);
        break;
      }
      case "await-transaction": {
        const txHash = record.txHash as Hex;
        const known = await driver.receipt(txHash);
        if (known === null) {
          if (await driver.isNonceUsed(record.nonce as number)) {
            // Another transaction took the nonce: ours can never be mined, so the step never ran.
            record = store.restartStep(key.round, key.step);
            break;
          }
          await driver.broadcast(record.rawTransaction as Hex);
        }
        const outcome = known ?? (await driver.waitForReceipt(txHash));
        if (outcome.status === "reverted") {
          store.recordFailed(key.round, key.step, `transaction ${txHash} reverted in block ${outcome.blockNumber}`);
          throw new StepRevertedError(`The transaction of step "${key.step}" (round ${key.round}) reverted.`, {
            details: `tx ${txHash}, block ${outcome.blockNumber}`,
          });
        }
        return store.recordConfirmed(key.round, key.step, {
          outputHash: outcome.outputHash ?? txHash,
          blockNumber: outcome.blockNumber,
        });
      }
    }
  }
}
