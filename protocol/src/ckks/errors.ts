import { CipherShareError, InvalidInputError } from "../errors";

/** A SEAL operation failed, or a CKKS object was used against the wrong context or parameters. */
export class CkksError extends CipherShareError {
  override name = "CkksError";
}

/** A parameter-set id, step list or other CKKS setting outside what CipherShare supports. */
export class UnsupportedParametersError extends InvalidInputError {
  override name = "UnsupportedParametersError";
}

/** A public bundle, secret key or ciphertext whose bytes do not parse or do not match its context. */
export class MalformedKeyMaterialError extends InvalidInputError {
  override name = "MalformedKeyMaterialError";
}
