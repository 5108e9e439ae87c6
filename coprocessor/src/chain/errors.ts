import { CipherShareError } from "@ciphershare/protocol/errors";

/** A chain call failed: a transaction reverted or was refused, or the contracts' artifacts are missing. */
export class ChainError extends CipherShareError {
  override name = "ChainError";
}

/** The embedded `hardhat node` could not be started, answered wrongly, or died. */
export class LocalNodeError extends CipherShareError {
  override name = "LocalNodeError";
}

/** An fhEVM relayer call (input proof, user or public decryption) failed or was refused. */
export class FhevmClientError extends CipherShareError {
  override name = "FhevmClientError";
}

/** The ACL refused a decryption: the account (or the public) was never granted access to the handle. */
export class DecryptionRefusedError extends FhevmClientError {
  override name = "DecryptionRefusedError";
}
