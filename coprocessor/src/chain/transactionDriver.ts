import { keccak256, TransactionReceiptNotFoundError, type Hex as ViemHex, type TransactionReceipt } from "viem";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { SignedTransaction, TransactionDriver, TransactionOutcome } from "../state/journal";
import type { ChainSigner } from "./clients";
import { ChainError } from "./errors";

/** What a journaled step sends: a call (or a plain transfer) from the signer. */
export interface TransactionRequest {
  readonly to: Address;
  readonly data?: Hex;
  readonly value?: bigint;
  /** A fixed gas limit (skips estimation, so a call that reverts is still mined and fails on-chain). */
  readonly gas?: bigint;
}

export interface TransactionDriverOptions {
  /** Derives the step's output hash from its receipt (e.g. keccak of an event's handle); default: tx hash. */
  outputHash?: (receipt: TransactionReceipt) => Hex;
  /** Confirmations to wait for (default 1; the local node automines). */
  confirmations?: number;
}

/**
 * The journal's `TransactionDriver` for a local account: the transaction is signed offline, so its hash is known,
 * and journaled, before anything is broadcast.
 */
export function signerTransactionDriver(
  signer: ChainSigner,
  request: TransactionRequest | (() => Promise<TransactionRequest>),
  options: TransactionDriverOptions = {},
): TransactionDriver {
  const { reader, wallet, account } = signer;
  const outcomeOf = (receipt: TransactionReceipt): TransactionOutcome => ({
    status: receipt.status === "success" ? "success" : "reverted",
    blockNumber: Number(receipt.blockNumber),
    ...(options.outputHash !== undefined && receipt.status === "success"
      ? { outputHash: options.outputHash(receipt) }
      : {}),
  });
  return {
    async sign(): Promise<SignedTransaction> {
      const call = typeof request === "function" ? await request() : request;
      const prepared = await wallet.prepareTransactionRequest({ account, chain: reader.chain, ...call });
      const rawTransaction = await wallet.signTransaction(prepared);
      return { txHash: keccak256(rawTransaction), rawTransaction, nonce: prepared.nonce };
    },
    async broadcast(rawTransaction: Hex): Promise<void> {
      try {
        await reader.sendRawTransaction({ serializedTransaction: rawTransaction as ViemHex });
      } catch (error) {
        // Already in the pool or mined (a rebroadcast after a crash): the receipt lookup settles it.
        const hash = keccak256(rawTransaction);
        if (await known(() => reader.getTransaction({ hash }))) return;
        if (await known(() => reader.getTransactionReceipt({ hash }))) return;
        if (isNonceTooLow(error)) return; // the journal then sees the nonce used and restarts the step
        throw new ChainError("The node refused the transaction.", { details: hash, cause: error });
      }
    },
    async receipt(txHash: Hex): Promise<TransactionOutcome | null> {
      try {
        return outcomeOf(await reader.getTransactionReceipt({ hash: txHash }));
      } catch (error) {
        if (error instanceof TransactionReceiptNotFoundError) return null;
        throw error;
      }
    },
    async waitForReceipt(txHash: Hex): Promise<TransactionOutcome> {
      return outcomeOf(
        await reader.waitForTransactionReceipt({ hash: txHash, confirmations: options.confirmations ?? 1 }),
      );
    },
    async isNonceUsed(nonce: number): Promise<boolean> {
      const minedCount = await reader.getTransactionCount({ address: account.address, blockTag: "latest" });
      return minedCount > nonce;
    },
  };
}

async function known(lookup: () => Promise<unknown>): Promise<boolean> {
  try {
    return (await lookup()) !== null;
  } catch {
    return false;
  }
}

function isNonceTooLow(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /nonce too low|NONCE_EXPIRED|nonce has already been used/i.test(message);
}
