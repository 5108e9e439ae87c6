import { CipherShareError, InvalidInputError } from "@ciphershare/protocol/errors";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";

/**
 * Content-addressed storage for envelopes and bundles: a blob's name is its keccak256, so whatever
 * a backend returns can be checked against the hash a contract recorded. Backends: a local directory
 * (default), its HTTP front end, and any store that can put/get bytes by key (S3-compatible object
 * stores, IPFS with a keccak → CID index) by implementing this interface.
 */
export interface BlobStore {
  /** Largest blob accepted, in bytes. */
  readonly maxBlobBytes: number;
  /** Stores the bytes (idempotent) and returns their keccak256. */
  put(bytes: Uint8Array, options?: BlobPutOptions): Promise<Hex>;
  /** Returns the bytes whose keccak256 is `hash`, verified; `BlobNotFoundError` when absent. */
  get(hash: Hex): Promise<Uint8Array>;
  has(hash: Hex): Promise<boolean>;
}

/**
 * How a blob is stored. `round`: the bytes are an input ciphertext of that round or a copy or derivative of one (the
 * queue's FedAvg envelopes and partial sums, the valuation's models, projections and term sums, usage batches, a
 * contribution uploaded before its reveal): a guarded server serves them only to that round's computing parties
 * (`storage/blob-access.ts`). A restriction is recorded only when the bytes are new to the store, so nobody can hide a
 * blob that is already public; it never widens access.
 */
export interface BlobPutOptions {
  readonly round?: bigint;
}

/** Limits of a fetch from a store an untrusted party named (a contribution's reveal URI). */
export interface BlobFetchLimits {
  /** Largest blob to read, in bytes: the exact size of what is expected, when known. */
  readonly maxBlobBytes: number;
  /** Deadline of the whole fetch, in milliseconds. */
  readonly timeoutMs: number;
}

/** The store a URI names, fetching within `limits` when given. */
export type StoreForUri = (uri: string, limits?: BlobFetchLimits) => BlobStore;

export class BlobNotFoundError extends CipherShareError {
  override name = "BlobNotFoundError";
}

/** Stored bytes do not hash to their name: the backend is corrupt or lying. */
export class BlobIntegrityError extends CipherShareError {
  override name = "BlobIntegrityError";
}

export class BlobTooLargeError extends InvalidInputError {
  override name = "BlobTooLargeError";
}

const HASH_PATTERN = /^0x[0-9a-f]{64}$/;

/** Normalizes a blob name to lowercase 0x-hex of 32 bytes, or throws `InvalidInputError`. */
export function normalizeBlobHash(hash: string): Hex {
  const lower = hash.toLowerCase();
  if (!HASH_PATTERN.test(lower)) {
    throw new InvalidInputError("A blob hash must be 0x followed by 64 hex digits.", {
      details: `got "${hash.slice(0, 80)}"`,
    });
  }
  return lower as Hex;
}

export function assertBlobSize(length: number, maxBlobBytes: number): void {
  if (length > maxBlobBytes) {
    throw new BlobTooLargeError("The blob is larger than the store accepts.", {
      details: `${length} > ${maxBlobBytes} bytes`,
    });
  }
}

/** Throws `BlobIntegrityError` unless the bytes hash to `hash`. */
export async function verifyBlob(hash: Hex, bytes: Uint8Array, where: string): Promise<Uint8Array> {
  const actual = await keccak256(bytes);
  if (!sameHash(actual, hash)) {
    throw new BlobIntegrityError(`The blob from ${where} does not match its hash.`, {
      details: `asked for ${hash}, got bytes hashing to ${actual}`,
    });
  }
  return bytes;
}
