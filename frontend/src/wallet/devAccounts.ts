import { mnemonicToAccount, type HDAccount } from "viem/accounts";

/**
 * Hardhat's well-known default mnemonic. Every local Hardhat node funds these accounts; their keys
 * are public knowledge, so they are for the local chain only and never for a real network.
 */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** Hardhat's default `accounts.count`. */
export const DEV_ACCOUNT_COUNT = 10;

const derived = new Map<number, HDAccount>();

/** The local test account at m/44'/60'/0'/0/index, derived once and cached. */
export function devAccount(index: number): HDAccount {
  if (!Number.isInteger(index) || index < 0 || index >= DEV_ACCOUNT_COUNT) {
    throw new RangeError(`Development account index must be 0..${DEV_ACCOUNT_COUNT - 1}, got ${index}.`);
  }
  let account = derived.get(index);
  if (!account) {
    account = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index });
    derived.set(index, account);
  }
  return account;
}
