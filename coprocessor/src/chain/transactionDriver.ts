import {
  Transaction,
  type AbstractSigner,
  type Provider,
  type TransactionReceipt,
  type TransactionRequest,
} from "ethers";

import type { SignedTransaction, TransactionDriver, TransactionOutcome } from "../state/journal";
import type { Hex } from "@ciphershare/protocol/hex";
import { FhevmClientError } from "./errors";

export interface EthersTransactionDriverOptions {
  /** Derives the step's output hash from its receipt (e.g. keccak of an event's handle); default: tx hash. */
  outputHash?: (receipt: TransactionReceipt) => Hex;
  /** Confirmations to wait for (default 1; the local node automines). */
  confirmations?: number;
}

/**
 * The journal's `TransactionDriver` for an ethers signer that can sign offline (a `Wallet`), so the
 * transaction hash is known, and journaled, before anything is broadcast. Give the signer a provider
 * created with `cacheTimeout: -1`: ethers otherwise reuses a nonce it read less than 250 ms ago.
 */
export function ethersTransactionDriver(
  signer: AbstractSigner,
  request: TransactionRequest | (() => Promise<TransactionRequest>),
  options: EthersTransactionDriverOptions = {},
): TransactionDriver {
  const provider = requireProvider(signer);
  const outcomeOf = (receipt: TransactionReceipt): TransactionOutcome => ({
    status: receipt.status === 1 ? "success" : "reverted",
    blockNumber: receipt.blockNumber,
    ...(options.outputHash !== undefined && receipt.status === 1 ? { outputHash: options.outputHash(receipt) } : {}),
  });
  return {
    async sign(): Promise<SignedTransaction> {
      const populated = await signer.populateTransaction(typeof request === "function" ? await request() : request);
      const rawTransaction = (await signer.signTransaction(populated)) as Hex;
      const parsed = Transaction.from(rawTransaction);
      return { txHash: parsed.hash as Hex, rawTransaction, nonce: parsed.nonce };
    },
    async broadcast(rawTransaction: Hex): Promise<void> {
      try {
        await provider.broadcastTransaction(rawTransaction);
      } catch (error) {
        // Already in the pool or mined (a rebroadcast after a crash): the receipt lookup settles it.
        const hash = Transaction.from(rawTransaction).hash as Hex;
        if (await provider.getTransaction(hash)) return;
        if ((await provider.getTransactionReceipt(hash)) !== null) return;
        if (isNonceTooLow(error)) return; // the journal then sees the nonce used and restarts the step
        throw new FhevmClientError("The node refused the transaction.", { details: hash, cause: error });
      }
    },
    async receipt(txHash: Hex): Promise<TransactionOutcome | null> {
      const receipt = await provider.getTransactionReceipt(txHash);
      return receipt === null ? null : outcomeOf(receipt);
    },
    async waitForReceipt(txHash: Hex): Promise<TransactionOutcome> {
      const receipt = await provider.waitForTransaction(txHash, options.confirmations ?? 1);
      if (receipt === null) {
        throw new FhevmClientError("The transaction was not mined.", { details: txHash });
      }
      return outcomeOf(receipt);
    },
    async isNonceUsed(nonce: number): Promise<boolean> {
      const minedCount = await provider.getTransactionCount(await signer.getAddress(), "latest");
      return minedCount > nonce;
    },
  };
}

function requireProvider(signer: AbstractSigner): Provider {
  if (signer.provider === null) {
    throw new FhevmClientError("The signer has no provider.", { details: "connect the wallet to a provider" });
  }
  return signer.provider;
}

function isNonceTooLow(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /nonce too low|NONCE_EXPIRED|nonce has already been used/i.test(message);
}
