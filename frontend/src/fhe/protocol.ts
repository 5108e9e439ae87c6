import type { PrivacyAccounting } from "@ciphershare/coprocessor/training/privacy";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import type { Hex } from "@ciphershare/protocol/hex";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import type { TrainingShape } from "@ciphershare/protocol/training/statistics";

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

/** A training provider's upload, as `provider submit` makes it: [A_k | B_k] encrypted under the program key. */
export interface TrainingUpload {
  /** The "CST1" bytes (`providerUpload`): what is kept, committed by its seal, revealed and uploaded. */
  readonly bytes: Uint8Array;
  /** keccak256 of `bytes`. */
  readonly hash: Hex;
  /** n_k, the public sample count committed with it. */
  readonly rows: number;
  readonly ciphertextCount: number;
  /** What the DP option did, or null without DP. */
  readonly privacy: PrivacyAccounting | null;
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
  /** A training provider's statistics of X (n × d) and Y (n × c), encrypted under the program's bundle. */
  | {
      readonly id: number;
      readonly kind: "trainingUpload";
      readonly x: Matrix;
      readonly y: Matrix;
      readonly shape: TrainingShape;
      /** ε of the program's terms (null: none) and the provider's own (the smaller wins). */
      readonly epsilon: { readonly terms: number | null; readonly provider?: number };
      /** The program's λ when its terms value providers: the upload then carries the provider's local ridge model. */
      readonly lambda?: number;
      readonly publicBundle: Uint8Array;
      readonly bundleHash: Hex;
    }
  /**
   * The buyer's model: the keystore is opened with the passphrase inside the worker, W is decrypted from the
   * envelope of Enc_buyer(W) and only W comes back; keystore, passphrase and secret key go nowhere else.
   */
  | {
      readonly id: number;
      readonly kind: "decryptModel";
      readonly keystore: string;
      readonly passphrase: string;
      readonly envelope: Uint8Array;
      readonly shape: TrainingShape;
      /** The program's buyer key hash: a keystore of another bundle is refused before anything is decrypted. */
      readonly buyerKeyHash: Hex;
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
  | { readonly id: number; readonly kind: "trainingUploaded"; readonly result: TrainingUpload }
  | { readonly id: number; readonly kind: "model"; readonly model: Matrix }
  | { readonly id: number; readonly kind: "error"; readonly message: string };
