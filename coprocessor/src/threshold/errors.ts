import { CipherShareError, InvalidInputError } from "@ciphershare/protocol/errors";

/** Bytes that are not the uncompressed SEAL 4.1 object they claim to be (or not for this context). */
export class SealFormatError extends InvalidInputError {
  override name = "SealFormatError";
}

/** A key share, partial decryption or decrypting set that is malformed or does not fit the others. */
export class MalformedShareError extends InvalidInputError {
  override name = "MalformedShareError";
}

/** A threshold operation asked for something the scheme cannot do (t > n, too few shares, σ out of range…). */
export class ThresholdError extends CipherShareError {
  override name = "ThresholdError";
}

/** A combined decryption produced values outside the range the caller declared: nothing is released. */
export class ReleaseRangeError extends CipherShareError {
  override name = "ReleaseRangeError";
}
