// The JSON records a round publishes (manifest, release) are content-addressed: keccak256 of these exact bytes.
import { InvalidInputError } from "../errors";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The canonical bytes of a JSON record: `JSON.stringify` in the record's own key order. */
export function encodeJsonRecord(record: object): Uint8Array {
  return encoder.encode(JSON.stringify(record));
}

/** Parses a JSON record's bytes, naming what was expected when they are not JSON. */
export function parseJsonRecord(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new InvalidInputError(`The ${what} is not valid JSON.`, { details: `${bytes.length} bytes`, cause: error });
  }
}
