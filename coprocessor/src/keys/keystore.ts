import { createCipheriv, randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import {
  additionalData,
  deriveKey,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  KeystoreError,
  openKeystoreText,
  SALT_BYTES,
  type KeystoreFile,
  type KeystoreKind,
  type KeystoreMetadata,
  type ScryptParameters,
  type ShareKeystoreMetadata,
} from "@ciphershare/protocol/keys/keystore";

// The format and its opening are the protocol package's (the web app opens keystores with the same code).
export { KeystoreError, type KeystoreMetadata, type ScryptParameters, type ShareKeystoreMetadata };

export const DEFAULT_SCRYPT: ScryptParameters = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
/** Cheap parameters for tests only. */
export const TEST_SCRYPT: ScryptParameters = Object.freeze({ N: 2 ** 10, r: 8, p: 1 });

/** The metadata of a payout keystore: the round only (the address is derived from the key, never stored in clear). */
const PAYOUT_KEY_SET = "secp256k1";
const payoutMetadata = (round: string): KeystoreMetadata => ({
  parameterSetId: `${PAYOUT_KEY_SET}:round-${round}`,
  publicBundleHash: "0x",
});

const MIN_PASSPHRASE_LENGTH = 8;
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
  const { plaintext, metadata } = await openKeystoreText(text, passphrase, "ciphershare-payout-key");
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
  const { plaintext, metadata } = await openKeystoreText(text, passphrase, "ciphershare-ckks-secret-key");
  return { secretKey: plaintext, metadata };
}

/** Decrypts a member's share keystore: the serialized key share and its committee metadata. */
export async function openShareKeystore(
  text: string,
  passphrase: string,
): Promise<{ share: Uint8Array; metadata: ShareKeystoreMetadata }> {
  const { plaintext, metadata } = await openKeystoreText(text, passphrase, "ciphershare-ckks-key-share");
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

function pickMetadata(metadata: KeystoreMetadata): KeystoreMetadata {
  return { parameterSetId: metadata.parameterSetId, publicBundleHash: metadata.publicBundleHash };
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
