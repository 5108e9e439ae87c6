// The keystore file format (a secret key sealed with AES-256-GCM under a scrypt-derived key) and its opening, with
// WebCrypto and hash-wasm only: the CLI's roles and the web app's buyer page open keystores with this same code. Sealing
// stays in the coprocessor (`coprocessor/src/keys/keystore.ts`), which draws the salt and IV.
import { scrypt } from "hash-wasm";
import { CipherShareError } from "../errors";
import type { Hex } from "../hex";

/** The keystore could not be opened: wrong passphrase, or the file was altered. */
export class KeystoreError extends CipherShareError {
  override name = "KeystoreError";
}

/** scrypt cost; N=2^17, r=8 (128 MiB, ~0.5 s here) by default, as geth's "standard" keystores. */
export interface ScryptParameters {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** What the keystore says about the key it holds; authenticated (GCM additional data), not secret. */
export interface KeystoreMetadata {
  readonly parameterSetId: string;
  /** keccak256 of the public bundle this secret key belongs to. */
  readonly publicBundleHash: Hex;
}

/** A committee member's keystore also names its place in the committee and its share's commitment. */
export interface ShareKeystoreMetadata extends KeystoreMetadata {
  readonly threshold: number;
  readonly members: number;
  readonly member: number;
  /** keccak256 of the serialized key share (threshold/key-share.ts), the value recorded on-chain. */
  readonly shareCommitment: Hex;
}

export type KeystoreKind = "ciphershare-ckks-secret-key" | "ciphershare-ckks-key-share" | "ciphershare-payout-key";

/** The JSON file: a secret key (or a member's key share) sealed with AES-256-GCM under a scrypt-derived key. */
export interface KeystoreFile {
  version: 1;
  kind: KeystoreKind;
  metadata: KeystoreMetadata | ShareKeystoreMetadata;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: { name: "aes-256-gcm"; iv: string; tag: string };
  ciphertext: string;
}

/** AES-GCM's standard nonce and full-length tag: a shorter tag would make forgeries 2^(128 − 8·length) times easier. */
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;
export const SALT_BYTES = 32;

/**
 * Checks the fixed IV and tag lengths before deriving anything, then decrypts and authenticates in one step (WebCrypto
 * releases no unauthenticated plaintext). `kind` is what the caller expects the keystore to hold.
 */
export async function openKeystoreText(
  text: string,
  passphrase: string,
  kind: KeystoreKind,
): Promise<{ plaintext: Uint8Array; metadata: KeystoreMetadata | ShareKeystoreMetadata }> {
  const file = parseKeystore(text);
  if (file.kind !== kind) {
    const holds = {
      "ciphershare-ckks-secret-key": "a whole secret key",
      "ciphershare-ckks-key-share": "a committee member's key share",
      "ciphershare-payout-key": "a payout key",
    };
    const wanted = { ...holds, "ciphershare-ckks-secret-key": "a secret key" };
    throw new KeystoreError(`The keystore holds ${holds[file.kind]}, not ${wanted[kind]}.`, {
      details: `kind ${file.kind}`,
    });
  }
  const iv = strictBase64(file.cipher.iv, "IV", GCM_IV_BYTES);
  const tag = strictBase64(file.cipher.tag, "authentication tag", GCM_TAG_BYTES);
  const salt = strictBase64(file.kdf.salt, "salt", SALT_BYTES);
  const ciphertext = strictBase64(file.ciphertext, "ciphertext");
  const keyBytes = await deriveKey(passphrase, salt, file.kdf);
  const sealed = new Uint8Array(ciphertext.length + tag.length);
  sealed.set(ciphertext);
  sealed.set(tag, ciphertext.length);
  try {
    const key = await globalThis.crypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["decrypt"]);
    let plaintext: ArrayBuffer;
    try {
      plaintext = await globalThis.crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: additionalData(file), tagLength: GCM_TAG_BYTES * 8 },
        key,
        sealed,
      );
    } catch (error) {
      throw new KeystoreError("Wrong passphrase, or the keystore file was altered.", {
        details: "AES-256-GCM authentication failed",
        cause: error,
      });
    }
    return { plaintext: new Uint8Array(plaintext), metadata: file.metadata };
  } finally {
    keyBytes.fill(0);
  }
}

/** Decrypts a secret-key keystore (`ciphershare buyer keygen`, `custodian keygen`) in any JavaScript runtime. */
export async function openSecretKeystore(
  text: string,
  passphrase: string,
): Promise<{ secretKey: Uint8Array; metadata: KeystoreMetadata }> {
  const { plaintext, metadata } = await openKeystoreText(text, passphrase, "ciphershare-ckks-secret-key");
  return { secretKey: plaintext, metadata };
}

/** scrypt(passphrase NFKC, salt) → 32 bytes, the AES-256 key. */
export async function deriveKey(
  passphrase: string,
  salt: Uint8Array,
  parameters: ScryptParameters,
): Promise<Uint8Array<ArrayBuffer>> {
  let derived: Uint8Array;
  try {
    derived = await scrypt({
      password: passphrase.normalize("NFKC"),
      salt,
      costFactor: parameters.N,
      blockSize: parameters.r,
      parallelism: parameters.p,
      hashLength: 32,
      outputType: "binary",
    });
  } catch (error) {
    throw new KeystoreError("scrypt key derivation failed.", { cause: error });
  }
  const key = new Uint8Array(derived); // on its own ArrayBuffer, as WebCrypto's types want
  derived.fill(0);
  return key;
}

/** Canonical base64 of exactly `length` bytes (when given): a lenient decoder would skip junk and accept short tags. */
function strictBase64(text: string, what: string, length?: number): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer> | undefined;
  try {
    bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    bytes = undefined;
  }
  if (bytes === undefined || toBase64(bytes) !== text || (length !== undefined && bytes.length !== length)) {
    throw new KeystoreError(`The keystore's ${what} is malformed.`, {
      details: `${bytes?.length ?? "undecodable"} bytes${length === undefined ? "" : `, ${length} required`}`,
    });
  }
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function parseKeystore(text: string): KeystoreFile {
  let file: KeystoreFile;
  try {
    file = JSON.parse(text) as KeystoreFile;
  } catch (error) {
    throw new KeystoreError("The keystore is not valid JSON.", { cause: error });
  }
  const shareFields = file?.metadata as Partial<ShareKeystoreMetadata> | undefined;
  const ok =
    file?.version === 1 &&
    (file.kind === "ciphershare-ckks-secret-key" ||
      file.kind === "ciphershare-payout-key" ||
      (file.kind === "ciphershare-ckks-key-share" &&
        [shareFields?.threshold, shareFields?.members, shareFields?.member].every(Number.isSafeInteger) &&
        typeof shareFields?.shareCommitment === "string")) &&
    typeof file.metadata?.parameterSetId === "string" &&
    typeof file.metadata?.publicBundleHash === "string" &&
    file.kdf?.name === "scrypt" &&
    [file.kdf.N, file.kdf.r, file.kdf.p].every(Number.isSafeInteger) &&
    typeof file.kdf.salt === "string" &&
    file.cipher?.name === "aes-256-gcm" &&
    typeof file.cipher.iv === "string" &&
    typeof file.cipher.tag === "string" &&
    typeof file.ciphertext === "string";
  if (!ok) throw new KeystoreError("The file is not a CipherShare CKKS keystore (version 1).");
  // Bound the KDF cost a file may ask for: a hostile file must not make us allocate gigabytes.
  if (
    file.kdf.N < 2 ** 10 ||
    file.kdf.N > 2 ** 20 ||
    file.kdf.r < 1 ||
    file.kdf.r > 32 ||
    file.kdf.p < 1 ||
    file.kdf.p > 16
  ) {
    throw new KeystoreError("The keystore's scrypt parameters are out of bounds.", {
      details: `N=${file.kdf.N} r=${file.kdf.r} p=${file.kdf.p}`,
    });
  }
  return file;
}

/** Binds the metadata and KDF settings to the ciphertext, so altering them fails authentication. */
export function additionalData(
  file: Pick<KeystoreFile, "version" | "kind" | "metadata" | "kdf">,
): Uint8Array<ArrayBuffer> {
  const { metadata, kdf } = file;
  const committee =
    file.kind === "ciphershare-ckks-key-share"
      ? (({ threshold, members, member, shareCommitment }: ShareKeystoreMetadata) => [
          threshold,
          members,
          member,
          shareCommitment,
        ])(metadata as ShareKeystoreMetadata)
      : [];
  return new TextEncoder().encode(
    JSON.stringify([
      file.version,
      file.kind,
      metadata.parameterSetId,
      metadata.publicBundleHash,
      kdf.N,
      kdf.r,
      kdf.p,
      kdf.salt,
      ...committee,
    ]),
  );
}
