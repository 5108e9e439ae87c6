import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import type { Hex } from "@ciphershare/protocol/hex";

/** Messages between the page and the CKKS worker. Typed arrays travel by transfer, never as JSON. */

export type CkksStage = "loading" | "keys" | "encrypting" | "decrypting" | "done";

export interface CkksProgress {
  readonly stage: CkksStage;
  /** Units done in this stage (ciphertexts while encrypting/decrypting). */
  readonly done: number;
  readonly total: number;
}

export interface EncryptedUpdate {
  /**
   * The coprocessor's contribution envelope (`@ciphershare/protocol/ckks/envelope`): header with the
   * key bundle's hash and the tensor shapes, then one SEAL ciphertext per CKKS_SLOTS values.
   */
  readonly envelope: Uint8Array;
  /** keccak256 of the envelope: what is uploaded and committed on-chain. */
  readonly envelopeHash: Hex;
  readonly ciphertextCount: number;
  readonly valueCount: number;
}

export interface SelfTestResult {
  readonly valueCount: number;
  readonly ciphertextCount: number;
  readonly ciphertextBytes: number;
  /** Largest |decrypt(encrypt(x)) - x| over the vector. */
  readonly maxAbsoluteError: number;
  readonly encryptMs: number;
  readonly totalMs: number;
}

export type CkksRequest =
  | {
      readonly id: number;
      readonly kind: "encrypt";
      readonly values: Float64Array;
      readonly tensors: readonly TensorSpec[];
      /** The encryption bundle (`serializePublicBundle`, public key only, or a whole bundle). */
      readonly publicBundle: Uint8Array;
      /** The program's on-chain key hash the envelope names; keccak256 of `publicBundle` when absent (self-test). */
      readonly bundleHash?: Hex;
    }
  /** Self-test only: a throwaway key pair whose secret key never leaves the worker. */
  | { readonly id: number; readonly kind: "generateTestKeys" }
  /** Self-test only: decrypts with the throwaway secret key, then forgets it. */
  | {
      readonly id: number;
      readonly kind: "decryptWithTestKey";
      readonly keyId: number;
      readonly envelope: Uint8Array;
    };

export type CkksResponse =
  | { readonly id: number; readonly kind: "progress"; readonly progress: CkksProgress }
  | { readonly id: number; readonly kind: "encrypted"; readonly result: EncryptedUpdate }
  | { readonly id: number; readonly kind: "testKeys"; readonly keyId: number; readonly publicBundle: Uint8Array }
  | { readonly id: number; readonly kind: "decrypted"; readonly values: Float64Array }
  | { readonly id: number; readonly kind: "error"; readonly message: string };
