import { expect } from "chai";

/** Awaits a promise that must reject with `type` (and a message matching `message`); returns the error. */
export async function rejectionOf<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  message?: RegExp,
): Promise<E> {
  let error: unknown;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected a ${type.name}`).to.be.instanceOf(type);
  if (message) expect((error as E).message).to.match(message);
  return error as E;
}
