// The browser's payout keystore: each fresh payout key is encrypted in the page (WebCrypto: PBKDF2-SHA-256 from a
// passphrase → AES-256-GCM) before it touches localStorage, bound to its contributor account and round (GCM
// additional data). Neither the key nor the payout address is stored in clear: whoever reads the browser's storage
// learns that this account sealed a payout for round N, not where it is paid.
import { getAddress, isHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { CipherShareError } from "@ciphershare/protocol/errors";

export class PayoutVaultError extends CipherShareError {
  override name = "PayoutVaultError";
}

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA-256. */
export const PBKDF2_ITERATIONS = 600_000;
export const MIN_PASSPHRASE_LENGTH = 8;

/** One encrypted payout key, as stored and exported (JSON). */
export interface SealedPayoutKey {
  readonly version: 1;
  readonly kind: "ciphershare-browser-payout-key";
  readonly account: Address;
  readonly round: string;
  readonly kdf: {
    readonly name: "PBKDF2";
    readonly hash: "SHA-256";
    readonly iterations: number;
    readonly salt: string;
  };
  readonly cipher: { readonly name: "AES-GCM"; readonly iv: string };
  readonly ciphertext: string;
}

/** A payout key opened with its passphrase. */
export interface PayoutKey {
  readonly round: string;
  readonly address: Address;
  readonly privateKey: Hex;
}

const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string): Uint8Array<ArrayBuffer> => {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    throw new PayoutVaultError("The stored payout key is malformed (bad base64).", { details: text.slice(0, 40) });
  }
};

function additionalData(entry: Pick<SealedPayoutKey, "version" | "kind" | "account" | "round" | "kdf">) {
  const { version, kind, account, round, kdf } = entry;
  return new TextEncoder().encode(
    JSON.stringify([version, kind, account.toLowerCase(), round, kdf.iterations, kdf.salt]),
  );
}

async function deriveKey(passphrase: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(passphrase.normalize("NFKC")),
    "PBKDF2",
    false,
    ["deriveKey"],
  );
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** Encrypts `privateKey` under `passphrase` for `account`'s payout of `round`. */
export async function sealPayoutKey(
  privateKey: Hex,
  passphrase: string,
  account: Address,
  round: bigint,
  iterations = PBKDF2_ITERATIONS,
): Promise<SealedPayoutKey> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new PayoutVaultError(`The passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters.`, {
      details: `${passphrase.length} characters`,
    });
  }
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const header = {
    version: 1 as const,
    kind: "ciphershare-browser-payout-key" as const,
    account: getAddress(account),
    round: round.toString(),
    kdf: { name: "PBKDF2" as const, hash: "SHA-256" as const, iterations, salt: toBase64(salt) },
  };
  const key = await deriveKey(passphrase, salt, iterations);
  const plaintext = Uint8Array.from(privateKey.slice(2).match(/../g)!, (byte) => parseInt(byte, 16));
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: additionalData(header) }, key, plaintext),
  );
  plaintext.fill(0);
  return { ...header, cipher: { name: "AES-GCM", iv: toBase64(iv) }, ciphertext: toBase64(ciphertext) };
}

/** Decrypts a sealed payout key; a wrong passphrase (or an altered entry) gives a `PayoutVaultError` saying so. */
export async function openPayoutKey(sealed: SealedPayoutKey, passphrase: string): Promise<PayoutKey> {
  if (sealed.version !== 1 || sealed.kind !== "ciphershare-browser-payout-key" || sealed.kdf?.name !== "PBKDF2") {
    throw new PayoutVaultError("This is not a CipherShare browser payout key (version 1).", {
      details: JSON.stringify(sealed).slice(0, 80),
    });
  }
  const key = await deriveKey(passphrase, fromBase64(sealed.kdf.salt), sealed.kdf.iterations);
  let plaintext: Uint8Array;
  try {
    plaintext = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromBase64(sealed.cipher.iv), additionalData: additionalData(sealed) },
        key,
        fromBase64(sealed.ciphertext),
      ),
    );
  } catch (error) {
    throw new PayoutVaultError("Wrong passphrase: the payout key did not decrypt (or its stored entry was altered).", {
      details: `round ${sealed.round}`,
      cause: error,
    });
  }
  const privateKey = `0x${Array.from(plaintext, (b) => b.toString(16).padStart(2, "0")).join("")}` as Hex;
  plaintext.fill(0);
  if (!isHex(privateKey) || privateKey.length !== 66) {
    throw new PayoutVaultError("The decrypted payout key is not a 32-byte key.", { details: `round ${sealed.round}` });
  }
  return { round: sealed.round, address: privateKeyToAccount(privateKey).address, privateKey };
}

/** Where an account's sealed payout keys live in localStorage. */
export function vaultStorageKey(account: Address): string {
  return `ciphershare:payout-keys:${account.toLowerCase()}`;
}

/** The account's sealed payout keys (encrypted), by round. */
export function storedPayoutKeys(account: Address, storage: Storage = localStorage): SealedPayoutKey[] {
  const text = storage.getItem(vaultStorageKey(account));
  if (text === null) return [];
  try {
    return JSON.parse(text) as SealedPayoutKey[];
  } catch (error) {
    throw new PayoutVaultError("The browser's payout keystore is not JSON.", { cause: error });
  }
}

/** Adds (or replaces) the sealed payout key of its round. */
export function storePayoutKey(sealed: SealedPayoutKey, storage: Storage = localStorage): void {
  const others = storedPayoutKeys(sealed.account, storage).filter((entry) => entry.round !== sealed.round);
  storage.setItem(vaultStorageKey(sealed.account), JSON.stringify([...others, sealed]));
}
