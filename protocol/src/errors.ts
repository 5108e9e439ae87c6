/**
 * Root of CipherShare's error hierarchy. Every error the coprocessor, custodian, contributor tools or
 * CLI raise on purpose extends it, so callers can tell a refusal with a reason from a crash.
 *
 * `shortMessage` is one line a person can act on; `details` names the offending value; `cause` keeps
 * the underlying error (a SEAL exception, an fs error) for debugging.
 */
export class CipherShareError extends Error {
  override name = "CipherShareError";
  readonly shortMessage: string;
  readonly details: string | undefined;

  constructor(shortMessage: string, options: { details?: string; cause?: unknown } = {}) {
    super(options.details ? `${shortMessage}\n\nDetails: ${options.details}` : shortMessage, {
      cause: options.cause,
    });
    this.shortMessage = shortMessage;
    this.details = options.details;
  }

  /** Walks the cause chain and returns the first error matching `predicate`. */
  walk(predicate: (error: unknown) => boolean): unknown {
    if (predicate(this)) return this;
    let current: unknown = this.cause;
    while (current !== undefined && current !== null) {
      if (predicate(current)) return current;
      current = current instanceof Error ? current.cause : undefined;
    }
    return undefined;
  }
}

/** Bad input from a user or a file: a flag, a path, a malformed array. Never a bug. */
export class InvalidInputError extends CipherShareError {
  override name = "InvalidInputError";
}
