import {
  createCipheriv,
  createDecipheriv,
  randomBytes,
  scrypt as scryptCallback,
  type ScryptOptions,
} from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { CipherShareError, InvalidInputError } from "@ciphershare/protocol/errors";
import type { Hex } from "@ciphershare/protocol/hex";

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
export const DEFAULT_SCRYPT: ScryptParameters = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
/** Cheap parameters for tests only. */
export const TEST_SCRYPT: ScryptParameters = Object.freeze({ N: 2 ** 10, r: 8, p: 1 });

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

type KeystoreKind = "ciphershare-ckks-secret-key" | "ciphershare-ckks-key-share" | "ciphershare-payout-key";

/** The metadata of a payout keystore: the round only (the address is derived from the key, never stored in clear). */
const PAYOUT_KEY_SET = "secp256k1";
const payoutMetadata = (round: string): KeystoreMetadata => ({
  parameterSetId: `${PAYOUT_KEY_SET}:round-${round}`,
  publicBundleHash: "0x",
});

/** The JSON file: a secret key (or a member's key share) sealed with AES-256-GCM under a scrypt-derived key. */
interface KeystoreFile {
  version: 1;
  kind: KeystoreKind;
  metadata: KeystoreMetadata | ShareKeystoreMetadata;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: { name: "aes-256-gcm"; iv: string; tag: string };
  ciphertext: string;
}

const MIN_PASSPHRASE_LENGTH = 8;
/** AES-GCM's standard nonce and full-length tag: a shorter tag would make forgeries 2^(128 − 8·length) times easier. */
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const SALT_BYTES = 32;

/** Encrypts a secret key for storage at rest; returns the keystore JSON text. */
export function sealKeystore(
  secretKey: Uint8Array,
  passphrase: string,
  metadata: KeystoreMetadata,
  scryptParameters: ScryptParameters = DEFAULT_SCRYPT,
): Promise<string> {
  return seal("ciphershare-ckks-secret-key", secretKey, passphrase, pickMetadata(metadata), scryptParameters);
}

/**
 * Encrypts a committee member's serialized key share (threshold/key-share.ts), in the same format as a
 * secret-key keystore; the committee shape and the share commitment are authenticated with it.
 */
export function sealShareKeystore(
  share: Uint8Array,
  passphrase: string,
  metadata: ShareKeystoreMetadata,
  scryptParameters: ScryptParameters = DEFAULT_SCRYPT,
): Promise<string> {
  const { threshold, members, member, shareCommitment } = metadata;
  return seal(
    "ciphershare-ckks-key-share",
    share,
    passphrase,
    { ...pickMetadata(metadata), threshold, members, member, shareCommitment },
    scryptParameters,
  );
}

/**
 * Encrypts a contributor's fresh payout key (32-byte secp256k1 private key) for round `round`, in the same format
 * as the CKKS keystores; the round is authenticated with it, the payout address is not written in clear.
 */
export function sealPayoutKeystore(
  privateKey: Uint8Array,
  passphrase: string,
  round: string,
  scryptParameters: ScryptParameters = DEFAULT_SCRYPT,
): Promise<string> {
  return seal("ciphershare-payout-key", privateKey, passphrase, payoutMetadata(round), scryptParameters);
}

/** Decrypts a payout keystore; refuses one sealed for another round than `round`. */
export async function openPayoutKeystore(text: string, passphrase: string, round: string): Promise<Uint8Array> {
  const { plaintext, metadata } = await open(text, passphrase, "ciphershare-payout-key");
  if (metadata.parameterSetId !== payoutMetadata(round).parameterSetId) {
    plaintext.fill(0);
    throw new KeystoreError(`The payout keystore is for another round than ${round}.`, {
      details: metadata.parameterSetId,
    });
  }
  return plaintext;
}

/** Decrypts a secret-key keystore; a wrong passphrase or any altered byte gives a `KeystoreError`. */
export async function openKeystore(
  text: string,
  passphrase: string,
): Promise<{ secretKey: Uint8Array; metadata: KeystoreMetadata }> {
  const { plaintext, metadata } = await open(text, passphrase, "ciphershare-ckks-secret-key");
  return { secretKey: plaintext, metadata };
}

/** Decrypts a member's share keystore: the serialized key share and its committee metadata. */
export async function openShareKeystore(
  text: string,
  passphrase: string,
): Promise<{ share: Uint8Array; metadata: ShareKeystoreMetadata }> {
  const { plaintext, metadata } = await open(text, passphrase, "ciphershare-ckks-key-share");
  return { share: plaintext, metadata: metadata as ShareKeystoreMetadata };
}

async function seal(
  kind: KeystoreKind,
  secret: Uint8Array,
  passphrase: string,
  metadata: KeystoreMetadata | ShareKeystoreMetadata,
  scryptParameters: ScryptParameters,
): Promise<string> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new InvalidInputError(`The keystore passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters.`);
  }
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(GCM_IV_BYTES);
  const kdf = { name: "scrypt" as const, ...scryptParameters, salt: salt.toString("base64") };
  const file: Omit<KeystoreFile, "cipher" | "ciphertext"> = { version: 1, kind, metadata, kdf };
  const key = await deriveKey(passphrase, salt, scryptParameters);
  try {
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: GCM_TAG_BYTES });
    cipher.setAAD(additionalData(file));
    const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
    const sealed: KeystoreFile = {
      ...file,
      cipher: { name: "aes-256-gcm", iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64") },
      ciphertext: ciphertext.toString("base64"),
    };
    return JSON.stringify(sealed, null, 2);
  } finally {
    key.fill(0);
  }
}

/**
 * Checks the fixed IV and tag lengths before deriving anything, then decrypts into one buffer; every
 * intermediate plaintext buffer (including unauthenticated output when the tag check fails) is zeroed.
 */
async function open(
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
  const key = await deriveKey(passphrase, salt, file.kdf);
  const parts: Buffer[] = [];
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(additionalData(file));
    decipher.setAuthTag(tag);
    parts.push(decipher.update(ciphertext));
    parts.push(decipher.final());
    const plaintext = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      plaintext.set(part, offset);
      offset += part.length;
    }
    return { plaintext, metadata: file.metadata };
  } catch (error) {
    throw new KeystoreError("Wrong passphrase, or the keystore file was altered.", {
      details: "AES-256-GCM authentication failed",
      cause: error,
    });
  } finally {
    key.fill(0);
    for (const part of parts) part.fill(0);
  }
}

function pickMetadata(metadata: KeystoreMetadata): KeystoreMetadata {
  return { parameterSetId: metadata.parameterSetId, publicBundleHash: metadata.publicBundleHash };
}

/** Canonical base64 of exactly `length` bytes (when given): Node's decoder would skip junk and accept short tags. */
function strictBase64(text: string, what: string, length?: number): Buffer {
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text || (length !== undefined && bytes.length !== length)) {
    throw new KeystoreError(`The keystore's ${what} is malformed.`, {
      details: `${bytes.length} bytes${length === undefined ? "" : `, ${length} required`}`,
    });
  }
  return bytes;
}

/** Writes a keystore file atomically with owner-only permissions. */
export async function writeKeystoreFile(path: string, keystoreText: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, keystoreText, { mode: 0o600 });
  await rename(temporary, path);
}

/** Reads and decrypts a keystore file. */
export async function readKeystoreFile(
  path: string,
  passphrase: string,
): Promise<{ secretKey: Uint8Array; metadata: KeystoreMetadata }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new InvalidInputError("Cannot read the keystore file.", { details: path, cause: error });
  }
  return openKeystore(text, passphrase);
}

function parseKeystore(text: string): KeystoreFile {
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
function additionalData(file: Pick<KeystoreFile, "version" | "kind" | "metadata" | "kdf">): Buffer {
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
  return Buffer.from(
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

function deriveKey(passphrase: string, salt: Buffer, parameters: ScryptParameters): Promise<Buffer> {
  const options: ScryptOptions = {
    N: parameters.N,
    r: parameters.r,
    p: parameters.p,
    maxmem: 256 * parameters.N * parameters.r + 32 * 1024 * 1024,
  };
  return new Promise((resolve, reject) =>
    scryptCallback(passphrase.normalize("NFKC"), salt, 32, options, (error, key) =>
      error ? reject(new KeystoreError("scrypt key derivation failed.", { cause: error })) : resolve(key),
    ),
  );
}
