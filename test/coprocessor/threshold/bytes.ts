/** Copies of `bytes` with one field changed, for the malformed-input tests. */
export function withByte(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[offset] = value;
  return copy;
}

export function withU64(bytes: Uint8Array, offset: number, value: bigint): Uint8Array {
  const copy = Uint8Array.from(bytes);
  new DataView(copy.buffer).setBigUint64(offset, value, true);
  return copy;
}

export function withF64(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  new DataView(copy.buffer).setFloat64(offset, value, true);
  return copy;
}
