import { SealFormatError } from "./errors";

/**
 * SEAL 4.1's uncompressed byte layouts of the three objects threshold decryption rewrites (little-endian):
 *
 * - every object starts with a 16-byte header: u16 magic 0xA15E, u8 header size (16), u8 version major
 *   (4), u8 minor (1), u8 compression mode (0 = none), u16 reserved (0), u64 total size in bytes;
 * - coefficient data is a nested array: its own 16-byte header, u64 count, then count × u64;
 * - Plaintext (and SecretKey, which SEAL saves as its plaintext): header, parms_id (4 × u64), u64
 *   coeff_count, f64 scale, data;
 * - Ciphertext: header, parms_id, u8 is_ntt_form, u64 size, u64 N, u64 coeff_modulus_size, f64 scale,
 *   u64 correction_factor, data.
 *
 * In NTT form, coefficient c of prime j of polynomial p sits at index (p·k + j)·N + c (k primes).
 * Parsing checks every field and length before copying; serializing a parsed object gives back the very
 * same bytes, so SEAL's own `load` accepts what these functions write.
 */
export const SEAL_MAGIC = 0xa15e;
export const SEAL_HEADER_BYTES = 16;
const SEAL_VERSION_MAJOR = 4;
const SEAL_VERSION_MINOR = 1;
const PARMS_ID_WORDS = 4;
/** Nested data array: its header plus the u64 element count. */
const DATA_ARRAY_PREFIX_BYTES = SEAL_HEADER_BYTES + 8;
const PLAINTEXT_FIXED_BYTES = SEAL_HEADER_BYTES + 8 * PARMS_ID_WORDS + 8 + 8;
const CIPHERTEXT_FIXED_BYTES = SEAL_HEADER_BYTES + 8 * PARMS_ID_WORDS + 1 + 8 * 5;
/** The polynomial counts and degrees SEAL itself accepts (SEAL_CIPHERTEXT_SIZE_MAX, SEAL_POLY_MOD_DEGREE_MAX). */
const MAX_CIPHERTEXT_SIZE = 16;
const MAX_POLY_MODULUS_DEGREE = 131072;
const MAX_COEFF_MODULUS_COUNT = 64;

/** SEAL's 256-bit parameter hash naming a level of the modulus chain (all zero for non-NTT plaintexts). */
export type ParmsId = readonly [bigint, bigint, bigint, bigint];

export interface RawPlaintext {
  readonly parmsId: ParmsId;
  /** N × primes in NTT form. */
  readonly coeffCount: number;
  readonly scale: number;
  readonly data: BigUint64Array;
}

export interface RawCiphertext {
  readonly parmsId: ParmsId;
  readonly isNttForm: boolean;
  /** Number of polynomials (2 after relinearization). */
  readonly size: number;
  readonly polyModulusDegree: number;
  readonly coeffModulusSize: number;
  readonly scale: number;
  /** BGV only; 1 in CKKS. */
  readonly correctionFactor: bigint;
  /** size × coeffModulusSize × polyModulusDegree residues. */
  readonly data: BigUint64Array;
}

/** Byte length SEAL uses for a ciphertext of this shape: 113 + 8 × size × k × N. */
export function rawCiphertextByteLength(size: number, coeffModulusSize: number, polyModulusDegree: number): number {
  return CIPHERTEXT_FIXED_BYTES + DATA_ARRAY_PREFIX_BYTES + 8 * size * coeffModulusSize * polyModulusDegree;
}

/** Byte length of a plaintext (or secret key) with `coeffCount` coefficients: 88 + 8 × coeffCount. */
export function rawPlaintextByteLength(coeffCount: number): number {
  return PLAINTEXT_FIXED_BYTES + DATA_ARRAY_PREFIX_BYTES + 8 * coeffCount;
}

export function parsePlaintext(bytes: Uint8Array, what = "plaintext"): RawPlaintext {
  const reader = new Reader(bytes, what);
  reader.header();
  const parmsId = reader.parmsId();
  const coeffCount = reader.count("coeff_count", 2 ** 32);
  const scale = reader.f64();
  if (!(scale > 0) || !Number.isFinite(scale)) reader.fail(`scale ${scale} is not a positive finite number`);
  const data = reader.dataArray(coeffCount);
  reader.end();
  return { parmsId, coeffCount, scale, data };
}

export function serializePlaintext(plaintext: RawPlaintext): Uint8Array {
  if (plaintext.data.length !== plaintext.coeffCount) {
    throw new SealFormatError("A plaintext's data length must equal its coefficient count.", {
      details: `${plaintext.data.length} residues, coeff_count ${plaintext.coeffCount}`,
    });
  }
  const writer = new Writer(rawPlaintextByteLength(plaintext.coeffCount));
  writer.header();
  writer.parmsId(plaintext.parmsId);
  writer.u64(BigInt(plaintext.coeffCount));
  writer.f64(plaintext.scale);
  writer.dataArray(plaintext.data);
  return writer.done();
}

export function parseCiphertext(bytes: Uint8Array): RawCiphertext {
  const reader = new Reader(bytes, "ciphertext");
  reader.header();
  const parmsId = reader.parmsId();
  const nttFlag = reader.u8();
  if (nttFlag > 1) reader.fail(`is_ntt_form byte is ${nttFlag}`);
  const size = reader.count("size", MAX_CIPHERTEXT_SIZE);
  const polyModulusDegree = reader.count("poly_modulus_degree", MAX_POLY_MODULUS_DEGREE);
  const coeffModulusSize = reader.count("coeff_modulus_size", MAX_COEFF_MODULUS_COUNT);
  const scale = reader.f64();
  const correctionFactor = reader.u64();
  if (size < 2) reader.fail(`size ${size} (a ciphertext has at least 2 polynomials)`);
  if (polyModulusDegree < 2 || (polyModulusDegree & (polyModulusDegree - 1)) !== 0) {
    reader.fail(`poly_modulus_degree ${polyModulusDegree} is not a power of two`);
  }
  if (coeffModulusSize < 1) reader.fail("coeff_modulus_size is 0");
  if (!(scale > 0) || !Number.isFinite(scale)) reader.fail(`scale ${scale} is not a positive finite number`);
  const data = reader.dataArray(size * coeffModulusSize * polyModulusDegree);
  reader.end();
  return {
    parmsId,
    isNttForm: nttFlag === 1,
    size,
    polyModulusDegree,
    coeffModulusSize,
    scale,
    correctionFactor,
    data,
  };
}

export function serializeCiphertext(ciphertext: RawCiphertext): Uint8Array {
  const { size, coeffModulusSize, polyModulusDegree } = ciphertext;
  if (ciphertext.data.length !== size * coeffModulusSize * polyModulusDegree) {
    throw new SealFormatError("A ciphertext's data length must be size × primes × N.", {
      details: `${ciphertext.data.length} residues for ${size} × ${coeffModulusSize} × ${polyModulusDegree}`,
    });
  }
  const writer = new Writer(rawCiphertextByteLength(size, coeffModulusSize, polyModulusDegree));
  writer.header();
  writer.parmsId(ciphertext.parmsId);
  writer.u8(ciphertext.isNttForm ? 1 : 0);
  writer.u64(BigInt(size));
  writer.u64(BigInt(polyModulusDegree));
  writer.u64(BigInt(coeffModulusSize));
  writer.f64(ciphertext.scale);
  writer.u64(ciphertext.correctionFactor);
  writer.dataArray(ciphertext.data);
  return writer.done();
}

/** Polynomial `index` of a ciphertext: a view of its k × N residues (prime-major). */
export function ciphertextPolynomial(ciphertext: RawCiphertext, index: number): BigUint64Array {
  if (!Number.isInteger(index) || index < 0 || index >= ciphertext.size) {
    throw new SealFormatError(`The ciphertext has no polynomial ${index}.`, { details: `size ${ciphertext.size}` });
  }
  const length = ciphertext.coeffModulusSize * ciphertext.polyModulusDegree;
  return ciphertext.data.subarray(index * length, (index + 1) * length);
}

export function sameParmsId(a: ParmsId, b: ParmsId): boolean {
  return a.every((word, i) => word === b[i]);
}

/** The 4 words of a SEAL `ParmsIdType` handle (node-seal returns them as a BigUint64Array). */
export function parmsIdWords(values: ArrayLike<bigint>): ParmsId {
  if (values.length !== PARMS_ID_WORDS) {
    throw new SealFormatError("A parms_id has 4 words.", { details: `got ${values.length}` });
  }
  return [values[0], values[1], values[2], values[3]];
}

class Reader {
  private readonly view: DataView;
  private offset = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(problem: string): never {
    throw new SealFormatError(`The ${this.what} bytes are not an uncompressed SEAL 4.1 object: ${problem}.`, {
      details: `${this.bytes.length} bytes, at offset ${this.offset}`,
    });
  }

  /** A SEAL header whose declared size is exactly the rest of the bytes from where it starts. */
  header(expectedSize = this.bytes.length - this.offset): void {
    this.need(SEAL_HEADER_BYTES);
    const magic = this.view.getUint16(this.offset, true);
    if (magic !== SEAL_MAGIC) this.fail(`magic 0x${magic.toString(16)} is not 0xa15e`);
    const headerSize = this.view.getUint8(this.offset + 2);
    const major = this.view.getUint8(this.offset + 3);
    const minor = this.view.getUint8(this.offset + 4);
    const compression = this.view.getUint8(this.offset + 5);
    const reserved = this.view.getUint16(this.offset + 6, true);
    const size = this.view.getBigUint64(this.offset + 8, true);
    if (headerSize !== SEAL_HEADER_BYTES) this.fail(`header size ${headerSize}`);
    if (major !== SEAL_VERSION_MAJOR || minor !== SEAL_VERSION_MINOR) this.fail(`version ${major}.${minor}`);
    if (compression !== 0) this.fail(`compression mode ${compression} (save with ComprModeType.none)`);
    if (reserved !== 0) this.fail("reserved header bytes are not zero");
    if (size !== BigInt(expectedSize)) this.fail(`header says ${size} bytes, ${expectedSize} present`);
    this.offset += SEAL_HEADER_BYTES;
  }

  parmsId(): ParmsId {
    return [this.u64(), this.u64(), this.u64(), this.u64()];
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }

  count(field: string, max: number): number {
    const value = this.u64();
    if (value > BigInt(max)) this.fail(`${field} ${value} exceeds ${max}`);
    return Number(value);
  }

  /** The nested array: header, count (must be `expected`), then the residues copied to aligned memory. */
  dataArray(expected: number): BigUint64Array {
    const byteLength = DATA_ARRAY_PREFIX_BYTES + 8 * expected;
    if (this.bytes.length - this.offset !== byteLength) {
      this.fail(`the coefficient data should take ${byteLength} bytes, ${this.bytes.length - this.offset} remain`);
    }
    this.header(byteLength);
    const count = this.u64();
    if (count !== BigInt(expected)) this.fail(`the data array holds ${count} values, ${expected} expected`);
    // The array is not 8-byte aligned inside SEAL's layout (a ciphertext's starts at byte 113): copy it.
    const data = new BigUint64Array(expected);
    new Uint8Array(data.buffer).set(this.bytes.subarray(this.offset, this.offset + 8 * expected));
    this.offset += 8 * expected;
    return data;
  }

  end(): void {
    if (this.offset !== this.bytes.length) this.fail(`${this.bytes.length - this.offset} trailing bytes`);
  }

  private need(count: number): void {
    if (this.offset + count > this.bytes.length) this.fail("truncated");
  }
}

class Writer {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private offset = 0;

  constructor(private readonly total: number) {
    this.bytes = new Uint8Array(total);
    this.view = new DataView(this.bytes.buffer);
  }

  header(size = this.total - this.offset): void {
    this.view.setUint16(this.offset, SEAL_MAGIC, true);
    this.view.setUint8(this.offset + 2, SEAL_HEADER_BYTES);
    this.view.setUint8(this.offset + 3, SEAL_VERSION_MAJOR);
    this.view.setUint8(this.offset + 4, SEAL_VERSION_MINOR);
    this.view.setBigUint64(this.offset + 8, BigInt(size), true);
    this.offset += SEAL_HEADER_BYTES;
  }

  parmsId(parmsId: ParmsId): void {
    for (const word of parmsId) this.u64(word);
  }

  u8(value: number): void {
    this.view.setUint8(this.offset++, value);
  }

  u64(value: bigint): void {
    this.view.setBigUint64(this.offset, value, true);
    this.offset += 8;
  }

  f64(value: number): void {
    this.view.setFloat64(this.offset, value, true);
    this.offset += 8;
  }

  dataArray(data: BigUint64Array): void {
    this.header(DATA_ARRAY_PREFIX_BYTES + 8 * data.length);
    this.u64(BigInt(data.length));
    this.bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.offset);
    this.offset += data.byteLength;
  }

  done(): Uint8Array {
    if (this.offset !== this.total) throw new SealFormatError("Internal: SEAL object length mismatch.");
    return this.bytes;
  }
}
