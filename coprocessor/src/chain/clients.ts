// Chain access from a plain process: one viem public client (reads, events, receipts) per JSON-RPC endpoint, and a
// wallet client per signing role. Accounts are local (a private key, or a development account of Hardhat's mnemonic),
// so every transaction can be signed before it is sent (the journal records it first; state/journal.ts).
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  type Chain,
  type Hash,
  type HttpTransport,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { cipherShareChain } from "@ciphershare/protocol/chain/network";
import { ChainError } from "./errors";

/** Hardhat's development mnemonic: the embedded chain funds its first 20 accounts. */
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** Reads, events and receipts. Receipts are polled every 250 ms: the embedded chain mines each transaction at once. */
export type ChainReader = PublicClient<HttpTransport, Chain>;

/** A role that signs: its account, and the clients to read and to send with. */
export interface ChainSigner {
  readonly address: Address;
  readonly account: LocalAccount;
  readonly reader: ChainReader;
  readonly wallet: WalletClient<HttpTransport, Chain, LocalAccount>;
}

export function chainReader(rpcUrl: string, chainId: number, pollingInterval = 250): ChainReader {
  return createPublicClient({
    chain: cipherShareChain({ chainId, rpcUrl }),
    transport: http(rpcUrl),
    pollingInterval,
  });
}

export function chainSigner(reader: ChainReader, account: LocalAccount): ChainSigner {
  const wallet = createWalletClient({ account, chain: reader.chain, transport: http(reader.transport.url) });
  return { address: account.address, account, reader, wallet };
}

/** A role's account: `--private-key` when given, else development account `index` of Hardhat's mnemonic. */
export function roleAccount(index: number, privateKey?: string): LocalAccount {
  if (privateKey !== undefined) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey)) {
      throw new InvalidInputError("The private key must be 32 bytes of hex (0x…).", { details: "--private-key" });
    }
    return privateKeyToAccount(privateKey as Hex);
  }
  if (!Number.isSafeInteger(index) || index < 0 || index > 19) {
    throw new InvalidInputError("Development accounts are numbered 0…19.", { details: `account ${index}` });
  }
  return mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: index });
}

/** Waits for a sent transaction and refuses a revert, naming the transaction. */
export async function mined(reader: ChainReader, sent: Hash | Promise<Hash>): Promise<TransactionReceipt> {
  const hash = await sent;
  const receipt = await reader.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") {
    throw new ChainError("The transaction reverted.", { details: `${hash} in block ${receipt.blockNumber}` });
  }
  return receipt;
}

/** Timestamp of the latest block: deadlines are in chain time, not this machine's. */
export async function latestTimestamp(reader: ChainReader): Promise<bigint> {
  return (await reader.getBlock({ blockTag: "latest" })).timestamp;
}

/** Moves the dev chain's clock (Hardhat node only): rounds' deadlines pass without waiting. */
export async function advanceChainTime(reader: ChainReader, seconds: number): Promise<void> {
  const testClient = createTestClient({ mode: "hardhat", chain: reader.chain, transport: http(reader.transport.url) });
  await testClient.increaseTime({ seconds });
  await testClient.mine({ blocks: 1 });
}
