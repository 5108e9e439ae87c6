import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { deleteAll, type Ciphertext, type Decryptor, type Encryptor } from "@ciphershare/protocol/ckks/seal";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Matrix } from "../linalg/matrix";
import { packRows, unpackRows, type RowPackedLayout } from "./layout";

/** A matrix encrypted row-packed (`layout.ts`): one ciphertext per block of rows. `dispose()` frees them. */
export interface EncryptedMatrix {
  readonly layout: RowPackedLayout;
  readonly ciphertexts: readonly Ciphertext[];
  dispose(): void;
}

/** Wraps ciphertexts (taking ownership) as an encrypted matrix of the layout. */
export function encryptedMatrix(layout: RowPackedLayout, ciphertexts: readonly Ciphertext[]): EncryptedMatrix {
  if (ciphertexts.length !== layout.ciphertextCount) {
    deleteAll(...ciphertexts);
    throw new InvalidInputError("Wrong number of ciphertexts for the matrix layout.", {
      details: `${ciphertexts.length}, expected ${layout.ciphertextCount} for ${layout.rows}×${layout.cols}`,
    });
  }
  return { layout, ciphertexts, dispose: () => deleteAll(...ciphertexts) };
}

/** Encrypts a matrix in a layout under the encryptor's public key (a fresh ciphertext per row block). */
export function encryptMatrix(
  ctx: CkksContext,
  layout: RowPackedLayout,
  m: Matrix,
  encryptor: Encryptor,
): EncryptedMatrix {
  const made: Ciphertext[] = [];
  try {
    for (const slots of packRows(layout, m)) made.push(ctx.encrypt(slots, encryptor));
  } catch (error) {
    deleteAll(...made);
    throw error;
  }
  return encryptedMatrix(layout, made);
}

/** Decrypts an encrypted matrix with a secret key's decryptor. */
export function decryptMatrix(ctx: CkksContext, encrypted: EncryptedMatrix, decryptor: Decryptor): Matrix {
  return unpackRows(
    encrypted.layout,
    encrypted.ciphertexts.map((ciphertext) => ctx.decrypt(ciphertext, decryptor)),
  );
}

/** Uncompressed SEAL bytes of each ciphertext, in order (byte-stable: hash them to commit). */
export function saveEncryptedMatrix(ctx: CkksContext, encrypted: EncryptedMatrix): Uint8Array[] {
  return encrypted.ciphertexts.map((ciphertext) => ctx.saveCiphertext(ciphertext));
}

/**
 * Loads uploaded ciphertexts as a fresh encrypted matrix of the layout: each must be a valid ciphertext of the
 * context at the fresh level and scale (what a provider's encryption gives), else `MalformedKeyMaterialError`.
 */
export function loadFreshEncryptedMatrix(
  ctx: CkksContext,
  layout: RowPackedLayout,
  bytes: readonly Uint8Array[],
): EncryptedMatrix {
  if (bytes.length !== layout.ciphertextCount) {
    throw new InvalidInputError("Wrong number of ciphertexts for the matrix layout.", {
      details: `${bytes.length}, expected ${layout.ciphertextCount} for ${layout.rows}×${layout.cols}`,
    });
  }
  const made: Ciphertext[] = [];
  try {
    for (const part of bytes) {
      made.push(ctx.loadCiphertext(part, { scale: ctx.scale, coeffModulusSize: ctx.freshCoeffModulusSize }));
    }
  } catch (error) {
    deleteAll(...made);
    throw error;
  }
  return encryptedMatrix(layout, made);
}
