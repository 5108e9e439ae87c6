import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  openPayoutKey,
  PayoutVaultError,
  sealPayoutKey,
  storedPayoutKeys,
  storePayoutKey,
  vaultStorageKey,
} from "../../src/royalties/anonymous/payoutVault";
import { devAccount } from "../../src/wallet/devAccounts";

// The browser's payout keystore: WebCrypto PBKDF2 → AES-GCM, bound to the account and the round.
describe("payout vault (encrypted payout keys in localStorage)", () => {
  const account = devAccount(6).address;
  const ITERATIONS = 1_000; // cheap for the test; the page uses PBKDF2_ITERATIONS

  it("round-trips a key; storage and export hold neither the key nor the payout address", async () => {
    const privateKey = generatePrivateKey();
    const address = privateKeyToAccount(privateKey).address;
    const sealed = await sealPayoutKey(privateKey, "a good passphrase", account, 3n, ITERATIONS);
    storePayoutKey(sealed);
    const text = localStorage.getItem(vaultStorageKey(account))!.toLowerCase();
    expect(text).not.toContain(privateKey.slice(2));
    expect(text).not.toContain(address.slice(2).toLowerCase());
    const [stored] = storedPayoutKeys(account).filter((entry) => entry.round === "3");
    expect(await openPayoutKey(stored, "a good passphrase")).toEqual({ round: "3", address, privateKey });
  });

  it("says the passphrase is wrong, and refuses an entry moved to another round or account", async () => {
    const sealed = await sealPayoutKey(generatePrivateKey(), "a good passphrase", account, 1n, ITERATIONS);
    await expect(openPayoutKey(sealed, "a bad passphrase")).rejects.toThrow(/Wrong passphrase/);
    await expect(openPayoutKey({ ...sealed, round: "2" }, "a good passphrase")).rejects.toBeInstanceOf(
      PayoutVaultError,
    );
    await expect(
      openPayoutKey({ ...sealed, account: devAccount(7).address }, "a good passphrase"),
    ).rejects.toBeInstanceOf(PayoutVaultError);
    await expect(sealPayoutKey(generatePrivateKey(), "short", account, 1n)).rejects.toThrow(/at least 8/);
  });
});
