import { InvalidInputError } from "@ciphershare/protocol/errors";

/**
 * Why a provider's data or statistics were refused. The coprocessor excludes such a contribution and records the
 * reason: `shape` (a matrix of the wrong size), `non-finite` (NaN or ±Infinity), `row-count` (a claimed row count
 * that is not a positive integer or does not match the rows), `dp` (privacy parameters out of range), `model` (no
 * local model in an upload to a program that values its providers).
 */
export type TrainingRejection = "shape" | "non-finite" | "row-count" | "dp" | "model";

/** A provider's input that cannot enter training, with the reason it would be excluded for. */
export class TrainingInputError extends InvalidInputError {
  override name = "TrainingInputError";

  constructor(
    readonly reason: TrainingRejection,
    shortMessage: string,
    options: { details?: string; cause?: unknown } = {},
  ) {
    super(shortMessage, options);
  }
}
