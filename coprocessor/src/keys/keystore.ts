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

/** The JSON file: a secret key sealed with AES-256-GCM under a scrypt-derived key. */
interface KeystoreFile {
  version: 1;
  kind: "ciphershare-ckks-secret-key";
  metadata: KeystoreMetadata;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: { name: "aes-256-gcm"; iv: string; tag: string };
  ciphertext: string;
}

const MIN_PASSPHRASE_LENGTH = 8;

/** Encrypts a secret key for storage at rest; returns the keystore JSON text. */
export async function sealKeystore(
  secretKey: Uint8Array,
  passphrase: string,
  metadata: KeystoreMetadata,
  scryptParameters: ScryptParameters = DEFAULT_SCRYPT,
): Promise<string> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new InvalidInputError(`The keystore passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters.`);
  }
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const kdf = { name: "scrypt" as const, ...scryptParameters, salt: salt.toString("base64") };
  const file: Omit<KeystoreFile, "cipher" | "ciphertext"> = {
    version: 1,
    kind: "ciphershare-ckks-secret-key",
    metadata: { parameterSetId: metadata.parameterSetId, publicBundleHash: metadata.publicBundleHash },
    kdf,
  };
  const key = await deriveKey(passphrase, salt, scryptParameters);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(additionalData(file));
  const ciphertext = Buffer.concat([cipher.update(secretKey), cipher.final()]);
  key.fill(0);
  const sealed: KeystoreFile = {
    ...file,
    cipher: { name: "aes-256-gcm", iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64") },
    ciphertext: ciphertext.toString("base64"),
  };
  return JSON.stringify(sealed, null, 2);
}

/** Decrypts a keystore; a wrong passphrase or any altered byte gives a `KeystoreError`. */
export async function openKeystore(
  text: string,
  passphrase: string,
): Promise<{ secretKey: Uint8Array; metadata: KeystoreMetadata }> {
  const file = parseKeystore(text);
  const salt = Buffer.from(file.kdf.salt, "base64");
  const key = await deriveKey(passphrase, salt, file.kdf);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(file.cipher.iv, "base64"));
    decipher.setAAD(additionalData(file));
    decipher.setAuthTag(Buffer.from(file.cipher.tag, "base64"));
    const secretKey = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, "base64")), decipher.final()]);
    return { secretKey: new Uint8Array(secretKey), metadata: file.metadata };
  } catch (error) {
    throw new KeystoreError("Wrong passphrase, or the keystore file was altered.", {
      details: "AES-256-GCM authentication failed",
      cause: error,
    });
  } finally {
    key.fill(0);
  }
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
  const ok =
    file?.version === 1 &&
    file.kind === "ciphershare-ckks-secret-key" &&
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
