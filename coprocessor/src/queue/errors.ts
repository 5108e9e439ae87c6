import { CipherShareError, InvalidInputError } from "@ciphershare/protocol/errors";

/** The job queue (Redis, BullMQ) failed or refused a job. */
export class QueueError extends CipherShareError {
  override name = "QueueError";
}

/** A `--queue` value that is not a redis:// URL. */
export class QueueUrlError extends InvalidInputError {
  override name = "QueueUrlError";
}
