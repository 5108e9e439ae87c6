import { InvalidInputError } from "../errors";
import { CkksError, MalformedKeyMaterialError } from "./errors";
import { getParameterSet, type CkksParameterSet } from "./params";
import {
  deleteAll,
  describeSealException,
  loadSeal,
  sealCall,
  type Ciphertext,
  type CKKSEncoder,
  type Decryptor,
  type Encryptor,
  type Evaluator,
  type Plaintext,
  type Seal,
  type SEALContext,
  type SealLocator,
} from "./seal";

/** Where a plaintext should live: at a given scale, and optionally at a ciphertext's level. */
export interface EncodeOptions {
  /** Defaults to the parameter set's scale. */
  scale?: number;
  /** Switch the plaintext down to this ciphertext's modulus level (for multiplyPlain/addPlain). */
  levelOf?: Ciphertext;
}

/** What `loadCiphertext` checks beyond SEAL's own validity check. */
export interface CiphertextExpectations {
  /** Number of polynomials; 2 unless a product is not relinearized. Default 2. */
  size?: number;
  /** Exact scale expected, e.g. the set's scale for a fresh ciphertext. */
  scale?: number;
  /** Primes left in the ciphertext's modulus (fresh: all but the special prime). */
  coeffModulusSize?: number;
}

/**
 * One SEAL context for a parameter set with the encoder and evaluator that go with it. Every helper
 * deletes its temporaries; the caller owns (and must `.delete()`) every Plaintext/Ciphertext returned.
 */
export class CkksContext {
  readonly slotCount: number;
  readonly scale: number;
  /** Primes in a fresh ciphertext's modulus. */
  readonly freshCoeffModulusSize: number;
  private disposed = false;

  private constructor(
    readonly seal: Seal,
    readonly parameterSet: CkksParameterSet,
    readonly context: SEALContext,
    readonly encoder: CKKSEncoder,
    readonly evaluator: Evaluator,
  ) {
    this.slotCount = encoder.slotCount();
    this.scale = parameterSet.scale;
    this.freshCoeffModulusSize = parameterSet.coeffModulusBits.length - 1;
  }

  /**
   * Builds the context for a named parameter set (0.4 s at N=8192, 1.4 s at N=16384). A bundled web worker passes
   * the locator of node-seal's `.wasm` asset.
   */
  static async create(parameterSet: string | CkksParameterSet, locator: SealLocator = {}): Promise<CkksContext> {
    const set = typeof parameterSet === "string" ? getParameterSet(parameterSet) : getParameterSet(parameterSet.id);
    const seal = await loadSeal(locator);
    const parms = new seal.EncryptionParameters(seal.SchemeType.ckks);
    const coeffModulus = sealCall(`build the modulus of ${set.id}`, () =>
      seal.CoeffModulus.Create(set.polyModulusDegree, Int32Array.from(set.coeffModulusBits)),
    );
    let context: SEALContext | undefined;
    try {
      const created = sealCall(`set up parameters for ${set.id}`, () => {
        parms.setPolyModulusDegree(set.polyModulusDegree);
        parms.setCoeffModulus(coeffModulus);
        return new seal.SEALContext(parms, true, seal.SecLevelType.tc128);
      });
      context = created;
      if (!created.parametersSet()) {
        throw new CkksError(`SEAL rejected the parameters of ${set.id}.`, { details: created.toHuman() });
      }
      return new CkksContext(seal, set, created, new seal.CKKSEncoder(created), new seal.Evaluator(created));
    } catch (error) {
      deleteAll(context);
      throw error;
    } finally {
      deleteAll(parms, coeffModulus);
    }
  }

  /**
   * Encodes up to `slotCount` finite values (zero-padded) into a new plaintext. Non-finite values are
   * refused: CKKS would encode them as garbage that decrypts to nonsense, silently.
   */
  encode(values: Float64Array, options: EncodeOptions = {}): Plaintext {
    this.assertUsable();
    if (values.length > this.slotCount) {
      throw new InvalidInputError(`Too many values for one CKKS plaintext.`, {
        details: `${values.length} values > ${this.slotCount} slots of ${this.parameterSet.id}`,
      });
    }
    assertFinite(values);
    const plaintext = new this.seal.Plaintext();
    try {
      sealCall("encode values", () => this.encoder.encode(values, options.scale ?? this.scale, plaintext));
      if (options.levelOf) this.switchPlaintextToLevelOf(plaintext, options.levelOf);
      return plaintext;
    } catch (error) {
      plaintext.delete();
      throw error;
    }
  }

  /** Encodes `value` in every slot (a short array would be zero-padded, so fill them all). */
  encodeConstant(value: number, options: EncodeOptions = {}): Plaintext {
    return this.encode(new Float64Array(this.slotCount).fill(value), options);
  }

  /** Encodes and encrypts up to `slotCount` values with the encryptor's public key. */
  encrypt(values: Float64Array, encryptor: Encryptor): Ciphertext {
    const plaintext = this.encode(values);
    const ciphertext = new this.seal.Ciphertext();
    try {
      sealCall("encrypt", () => encryptor.encrypt(plaintext, ciphertext));
      return ciphertext;
    } catch (error) {
      ciphertext.delete();
      throw error;
    } finally {
      plaintext.delete();
    }
  }

  /** Decrypts and decodes all `slotCount` slots. */
  decrypt(ciphertext: Ciphertext, decryptor: Decryptor): Float64Array {
    this.assertUsable();
    const plaintext = new this.seal.Plaintext();
    try {
      sealCall("decrypt", () => decryptor.decrypt(ciphertext, plaintext));
      return Float64Array.from(sealCall("decode", () => this.encoder.decodeFloat64(plaintext) as ArrayLike<number>));
    } finally {
      plaintext.delete();
    }
  }

  /** Uncompressed SEAL bytes: byte-stable for equal ciphertexts, which auditors' hash comparisons need. */
  saveCiphertext(ciphertext: Ciphertext): Uint8Array {
    this.assertUsable();
    return new Uint8Array(
      sealCall("serialize a ciphertext", () => ciphertext.saveToArray(this.seal.ComprModeType.none)),
    );
  }

  /**
   * Loads SEAL ciphertext bytes into a new ciphertext and checks it fits this context (SEAL's validity
   * check) and the expectations (size, scale, level). Throws `MalformedKeyMaterialError` otherwise.
   */
  loadCiphertext(bytes: Uint8Array, expectations: CiphertextExpectations = {}): Ciphertext {
    const ciphertext = new this.seal.Ciphertext();
    try {
      this.loadCiphertextInto(ciphertext, bytes, expectations);
      return ciphertext;
    } catch (error) {
      ciphertext.delete();
      throw error;
    }
  }

  /** `loadCiphertext` into an existing ciphertext, reusing its memory (hot loops keep the heap flat). */
  loadCiphertextInto(ciphertext: Ciphertext, bytes: Uint8Array, expectations: CiphertextExpectations = {}): void {
    this.assertUsable();
    try {
      ciphertext.loadFromArray(this.context, bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    } catch (error) {
      throw new MalformedKeyMaterialError(`The ciphertext bytes are not a valid ${this.parameterSet.id} ciphertext.`, {
        details: describeSealException(error),
        cause: error,
      });
    }
    this.checkCiphertext(ciphertext, expectations);
  }

  /** Throws `MalformedKeyMaterialError` unless the ciphertext has the expected size, scale and level. */
  checkCiphertext(ciphertext: Ciphertext, expectations: CiphertextExpectations = {}): void {
    const size = ciphertext.size();
    const expectedSize = expectations.size ?? 2;
    if (size !== expectedSize) {
      throw new MalformedKeyMaterialError(`The ciphertext has ${size} polynomials, expected ${expectedSize}.`);
    }
    if (ciphertext.polyModulusDegree() !== this.parameterSet.polyModulusDegree) {
      throw new MalformedKeyMaterialError(
        `The ciphertext's polynomial degree does not match ${this.parameterSet.id}.`,
        {
          details: `${ciphertext.polyModulusDegree()} ≠ ${this.parameterSet.polyModulusDegree}`,
        },
      );
    }
    if (expectations.scale !== undefined && ciphertext.scale() !== expectations.scale) {
      throw new MalformedKeyMaterialError(`The ciphertext's scale is not the expected one.`, {
        details: `2^${Math.log2(ciphertext.scale()).toFixed(3)} ≠ 2^${Math.log2(expectations.scale).toFixed(3)}`,
      });
    }
    if (
      expectations.coeffModulusSize !== undefined &&
      ciphertext.coeffModulusSize() !== expectations.coeffModulusSize
    ) {
      throw new MalformedKeyMaterialError(`The ciphertext is at the wrong modulus level.`, {
        details: `${ciphertext.coeffModulusSize()} primes ≠ ${expectations.coeffModulusSize} expected`,
      });
    }
  }

  /** Brings a plaintext down to a ciphertext's level so they can be multiplied or added. */
  switchPlaintextToLevelOf(plaintext: Plaintext, ciphertext: Ciphertext): void {
    const parmsId = ciphertext.parmsId();
    try {
      sealCall("switch a plaintext's level", () => this.evaluator.plainModSwitchToInplace(plaintext, parmsId));
    } finally {
      parmsId.delete();
    }
  }

  /**
   * Drops primes (SEAL's modulus switch, exact for CKKS) until the ciphertext has `coeffModulusSize` left:
   * the level the parameter set releases outputs at.
   */
  switchCiphertextDownTo(ciphertext: Ciphertext, coeffModulusSize: number): void {
    this.assertUsable();
    if (
      !Number.isInteger(coeffModulusSize) ||
      coeffModulusSize < 1 ||
      coeffModulusSize > ciphertext.coeffModulusSize()
    ) {
      throw new CkksError("Cannot switch a ciphertext up, or below one prime.", {
        details: `${ciphertext.coeffModulusSize()} primes → ${coeffModulusSize}`,
      });
    }
    sealCall("switch a ciphertext's modulus down", () => {
      while (ciphertext.coeffModulusSize() > coeffModulusSize) this.evaluator.cipherModSwitchToNextInplace(ciphertext);
    });
  }

  /** Frees the SEAL objects. Keys and ciphertexts made with this context must be deleted first. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    deleteAll(this.evaluator, this.encoder, this.context);
  }

  private assertUsable(): void {
    if (this.disposed) throw new CkksError(`The ${this.parameterSet.id} CKKS context was disposed.`);
  }
}

function assertFinite(values: Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new InvalidInputError("Cannot encode a non-finite value.", { details: `value[${i}] = ${values[i]}` });
    }
  }
}
