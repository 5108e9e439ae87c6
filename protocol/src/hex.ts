import { InvalidInputError } from "./errors";

/** A 0x-prefixed hex string (hashes print lowercase), the same type as viem's `Hex`. */
export type Hex = `0x${string}`;

/** A 0x-prefixed 20-byte account or contract address, the same type as viem's `Address`. */
export type Address = `0x${string}`;

/** Lowercase 0x-hex of the bytes. */
export function bytesToHex(bytes: Uint8Array): Hex {
  let out = "0x";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out as Hex;
}

/** Parses 0x-hex (either case) into bytes, checking the length when given. */
export function hexToBytes(hex: string, expectedLength?: number): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) {
    throw new InvalidInputError("Expected 0x-prefixed hex with an even number of digits.", {
      details: `got "${hex.length > 80 ? `${hex.slice(0, 80)}…` : hex}"`,
    });
  }
  const bytes = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new InvalidInputError(`Expected ${expectedLength} bytes of hex, got ${bytes.length}.`, {
      details: hex,
    });
  }
  return bytes;
}

/** True when two hashes name the same bytes, whatever their hex case. */
export function sameHash(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** True when two addresses are the same account, whatever their checksum casing. */
export function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** True for 0x followed by exactly 64 hex digits (a keccak256, a bytes32). */
export function isBytes32Hex(value: string): value is Hex {
  return /^0x[0-9a-fA-F]{64}$/.test(value);
}
