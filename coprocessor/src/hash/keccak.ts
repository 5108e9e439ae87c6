import { createKeccak, type IHasher } from "hash-wasm";
import { InvalidInputError } from "../errors/base";

/** A 0x-prefixed lowercase hex string, as viem and ethers print hashes. */
export type Hex = `0x${string}`;

let hasher: IHasher | undefined;
let loading: Promise<IHasher> | undefined;

/**
 * Loads the WASM keccak (hash-wasm, ~370 MB/s here against ~9 MB/s for ethers' JavaScript keccak).
 * Idempotent; after it resolves `keccak256Sync` is usable.
 */
export async function initKeccak(): Promise<void> {
  if (hasher) return;
  loading ??= createKeccak(256);
  hasher = await loading;
}

/** Ethereum's keccak256 (original Keccak padding, not SHA3-256) of the bytes, or of their concatenation. */
export async function keccak256(data: Uint8Array | readonly Uint8Array[]): Promise<Hex> {
  await initKeccak();
  return keccak256Sync(data);
}

/**
 * Synchronous keccak256 for hot loops; call `initKeccak()` once before. Safe to share: JavaScript runs
 * the init/update/digest sequence without interleaving.
 */
export function keccak256Sync(data: Uint8Array | readonly Uint8Array[]): Hex {
  if (!hasher) throw new Error("keccak256Sync called before initKeccak() resolved");
  hasher.init();
  for (const part of data instanceof Uint8Array ? [data] : data) hasher.update(part);
  return `0x${hasher.digest("hex")}`;
}

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
