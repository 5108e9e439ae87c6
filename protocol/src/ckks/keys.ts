import { keccak256 } from "../hashing/keccak";
import { type Hex } from "../hex";
import { serializeBundleManifest } from "./bundle-manifest";
import { CkksContext } from "./context";
import { MalformedKeyMaterialError, UnsupportedParametersError } from "./errors";
import { getParameterSet, getParameterSetByNumericId } from "./params";
import {
  deleteAll,
  describeSealException,
  sealCall,
  type Decryptor,
  type Encryptor,
  type GaloisKeys,
  type PublicKey,
  type RelinKeys,
  type SecretKey,
} from "./seal";

/**
 * What the key custodian publishes for a program epoch. Anyone can encrypt with it and the coprocessor
 * computes with it. It is published in two halves (`publicBundleParts`): the encryption bundle (public key) for
 * contributors and the evaluation bundle (relinearization and Galois keys) for the coprocessor, named by a small
 * manifest whose keccak256 (`publicBundleHash`) is what a program records on-chain. Keys are SEAL's seeded
 * serialization (half the size; SEAL expands the seed on load) without compression.
 */
export interface PublicBundle {
  readonly parameterSetId: string;
  readonly publicKey: Uint8Array;
  readonly relinKeys: Uint8Array;
  /** Empty when no rotation steps were requested. */
  readonly galoisKeys: Uint8Array;
  /** Rotation steps the Galois keys cover, ascending, no duplicates; 0 is complex conjugation (SEAL's convention). */
  readonly galoisSteps: readonly number[];
}

/** The custodian's output of key generation. The secret key never leaves the custodian's keystore. */
export interface GeneratedKeys {
  readonly bundle: PublicBundle;
  readonly secretKey: Uint8Array;
}

export interface KeyGenerationOptions {
  /**
   * Rotation steps the computation needs (e.g. baby/giant steps of a matrix-vector product); 0 asks for the complex
   * conjugation key (SEAL reads Galois step 0 as conjugation: `evaluator.complexConjugate`).
   */
  galoisSteps?: readonly number[];
  /** Add ±1, ±2, …, ±slotCount/2 so any slot sum (and any rotation by composition) works. */
  slotSumSteps?: boolean;
}

/** The power-of-two steps 1, 2, …, slotCount/2 (and their negatives) that log2 slot sums rotate by. */
export function powerOfTwoSteps(slotCount: number, withNegatives = true): number[] {
  const steps: number[] = [];
  for (let step = 1; step < slotCount; step *= 2) steps.push(step);
  return withNegatives ? [...steps, ...steps.map((step) => -step)] : steps;
}

/**
 * Sorts, dedups and validates rotation steps: integers with |step| < slotCount, where 0 stands for complex conjugation
 * (the only automorphism that is not a rotation; SEAL's `createGaloisKeys` steps use the same convention).
 */
export function normalizeGaloisSteps(steps: readonly number[], slotCount: number): number[] {
  for (const step of steps) {
    if (!Number.isInteger(step) || Math.abs(step) >= slotCount) {
      throw new UnsupportedParametersError("Invalid Galois rotation step.", {
        details: `step ${step}; steps must be integers with |step| < ${slotCount} (0: conjugation)`,
      });
    }
  }
  return [...new Set(steps)].sort((a, b) => a - b);
}

/**
 * Generates a fresh key set for the context's parameter set (the custodian's job). Galois keys cost
 * ~1.6 MB per step at N=8192 (seeded), so ask only for the steps the computation uses.
 */
export function generateKeys(ctx: CkksContext, options: KeyGenerationOptions = {}): GeneratedKeys {
  const steps = normalizeGaloisSteps(
    [...(options.galoisSteps ?? []), ...(options.slotSumSteps ? powerOfTwoSteps(ctx.slotCount) : [])],
    ctx.slotCount,
  );
  const none = ctx.seal.ComprModeType.none;
  const keyGenerator = sealCall("create a key generator", () => new ctx.seal.KeyGenerator(ctx.context));
  try {
    const save = (what: string, make: () => { saveToArray(mode: typeof none): unknown; delete(): void }) =>
      sealCall(`generate the ${what}`, () => {
        const key = make();
        try {
          return new Uint8Array(key.saveToArray(none) as ArrayLike<number>);
        } finally {
          key.delete();
        }
      });
    const secretKey = save("secret key", () => keyGenerator.secretKey());
    const publicKey = save("public key", () => keyGenerator.createPublicKeySerializable());
    const relinKeys = save("relinearization keys", () => keyGenerator.createRelinKeysSerializable());
    const galoisKeys =
      steps.length === 0
        ? new Uint8Array(0)
        : save("Galois keys", () => keyGenerator.createGaloisKeysSerializableWithSteps(Int32Array.from(steps)));
    return {
      bundle: { parameterSetId: ctx.parameterSet.id, publicKey, relinKeys, galoisKeys, galoisSteps: steps },
      secretKey,
    };
  } finally {
    keyGenerator.delete();
  }
}

const BUNDLE_MAGIC = [0x43, 0x53, 0x50, 0x42]; // "CSPB"
const BUNDLE_FORMAT_VERSION = 1;
/** magic(4) version(1) parameterSet(1) stepCount(4) then steps(4 each) then 3 × (length(8) bytes). */
const BUNDLE_FIXED_HEADER = 10;
/** Far above any real bundle (all Galois keys at N=16384 are ~600 MB) yet bounded before allocating. */
const MAX_BUNDLE_SECTION_BYTES = 2 ** 31;

/**
 * Deterministic byte form of a bundle: the same keys always give the same bytes, hence the same
 * keccak256. Layout (big-endian): "CSPB", format version u8, parameter-set numeric id u8, step count
 * u32, steps as i32, then public key, relinearization keys and Galois keys each as u64 length + bytes.
 */
export function serializePublicBundle(bundle: PublicBundle): Uint8Array {
  const set = getParameterSet(bundle.parameterSetId);
  const steps = normalizeGaloisSteps(bundle.galoisSteps, set.slotCount);
  if (steps.length !== bundle.galoisSteps.length || steps.some((step, i) => step !== bundle.galoisSteps[i])) {
    throw new MalformedKeyMaterialError("Bundle Galois steps must be sorted ascending without duplicates.", {
      details: bundle.galoisSteps.join(","),
    });
  }
  const sections = [bundle.publicKey, bundle.relinKeys, bundle.galoisKeys];
  const total = BUNDLE_FIXED_HEADER + 4 * steps.length + sections.reduce((sum, s) => sum + 8 + s.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(BUNDLE_MAGIC, 0);
  view.setUint8(4, BUNDLE_FORMAT_VERSION);
  view.setUint8(5, set.numericId);
  view.setUint32(6, steps.length);
  let offset = BUNDLE_FIXED_HEADER;
  for (const step of steps) {
    view.setInt32(offset, step);
    offset += 4;
  }
  for (const section of sections) {
    view.setBigUint64(offset, BigInt(section.length));
    out.set(section, offset + 8);
    offset += 8 + section.length;
  }
  return out;
}

/** Parses `serializePublicBundle` output, bounding every length before slicing. Views, not copies. */
export function parsePublicBundle(bytes: Uint8Array): PublicBundle {
  const fail = (problem: string, details?: string): never => {
    throw new MalformedKeyMaterialError(`Malformed public bundle: ${problem}.`, { details });
  };
  if (bytes.length < BUNDLE_FIXED_HEADER) fail("too short", `${bytes.length} bytes`);
  if (BUNDLE_MAGIC.some((byte, i) => bytes[i] !== byte)) fail("bad magic (not a CipherShare public bundle)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== BUNDLE_FORMAT_VERSION) fail("unsupported format version", `${version}`);
  const set = getParameterSetByNumericId(view.getUint8(5));
  const stepCount = view.getUint32(6);
  if (stepCount > set.slotCount * 2) fail("too many Galois steps", `${stepCount}`);
  let offset = BUNDLE_FIXED_HEADER;
  if (offset + 4 * stepCount > bytes.length) fail("truncated in the step list");
  const galoisSteps: number[] = [];
  for (let i = 0; i < stepCount; i++, offset += 4) galoisSteps.push(view.getInt32(offset));
  const normalized = normalizeGaloisSteps(galoisSteps, set.slotCount);
  if (normalized.length !== galoisSteps.length || normalized.some((s, i) => s !== galoisSteps[i])) {
    fail("Galois steps not sorted and unique");
  }
  const sections: Uint8Array[] = [];
  for (const name of ["public key", "relinearization keys", "Galois keys"]) {
    if (offset + 8 > bytes.length) fail(`truncated before the ${name}`);
    const length = view.getBigUint64(offset);
    if (length > BigInt(Math.min(MAX_BUNDLE_SECTION_BYTES, bytes.length - offset - 8))) {
      fail(`${name} length out of bounds`, `${length} bytes at offset ${offset}`);
    }
    sections.push(bytes.subarray(offset + 8, offset + 8 + Number(length)));
    offset += 8 + Number(length);
  }
  if (offset !== bytes.length) fail("trailing bytes", `${bytes.length - offset} after the Galois keys`);
  if ((sections[2].length === 0) !== (galoisSteps.length === 0)) fail("Galois keys and steps disagree");
  return {
    parameterSetId: set.id,
    publicKey: sections[0],
    relinKeys: sections[1],
    galoisKeys: sections[2],
    galoisSteps,
  };
}

/** The encryption half of a bundle: its public key only (what a contributor needs), as a bundle. */
export function encryptionPart(bundle: PublicBundle): PublicBundle {
  const empty = new Uint8Array(0);
  return { ...bundle, relinKeys: empty, galoisKeys: empty, galoisSteps: [] };
}

/** The evaluation half of a bundle: relinearization and Galois keys (what the coprocessor computes with). */
export function evaluationPart(bundle: PublicBundle): PublicBundle {
  return { ...bundle, publicKey: new Uint8Array(0) };
}

/** The three blobs a custodian publishes for a bundle and their keccak256; `hash` (the manifest's) goes on-chain. */
export interface PublishedBundleParts {
  readonly manifest: Uint8Array;
  readonly encryption: Uint8Array;
  readonly evaluation: Uint8Array;
  readonly hash: Hex;
  readonly encryptionHash: Hex;
  readonly evaluationHash: Hex;
}

/** Splits a bundle into its encryption and evaluation halves and the manifest naming both. Deterministic. */
export async function publicBundleParts(bundle: PublicBundle): Promise<PublishedBundleParts> {
  const encryption = serializePublicBundle(encryptionPart(bundle));
  const evaluation = serializePublicBundle(evaluationPart(bundle));
  const encryptionHash = await keccak256(encryption);
  const evaluationHash = await keccak256(evaluation);
  const manifest = serializeBundleManifest({ parameterSetId: bundle.parameterSetId, encryptionHash, evaluationHash });
  return { manifest, encryption, evaluation, hash: await keccak256(manifest), encryptionHash, evaluationHash };
}

/** keccak256 of the bundle's manifest: the value a program records on-chain and envelope headers carry. */
export async function publicBundleHash(bundle: PublicBundle): Promise<Hex> {
  return (await publicBundleParts(bundle)).hash;
}

/** A public bundle loaded into SEAL objects, with an encryptor. `dispose()` frees them all. */
export interface LoadedPublicBundle {
  readonly parameterSetId: string;
  readonly hash: Hex;
  readonly publicKey: PublicKey;
  readonly relinKeys: RelinKeys;
  /** Undefined when the bundle has no rotation steps. */
  readonly galoisKeys: GaloisKeys | undefined;
  readonly galoisSteps: readonly number[];
  readonly encryptor: Encryptor;
  dispose(): void;
}

/**
 * Loads a whole bundle (object or `serializePublicBundle` bytes) into the context; the bundle's parameter set must be
 * the context's. `hash` is its manifest hash (`publicBundleHash`).
 */
export async function loadPublicBundle(
  ctx: CkksContext,
  bundleOrBytes: PublicBundle | Uint8Array,
): Promise<LoadedPublicBundle> {
  const bundle = bundleOrBytes instanceof Uint8Array ? parsePublicBundle(bundleOrBytes) : bundleOrBytes;
  if (bundle.parameterSetId !== ctx.parameterSet.id) {
    throw new MalformedKeyMaterialError("The public bundle is for another parameter set than the context.", {
      details: `bundle ${bundle.parameterSetId}, context ${ctx.parameterSet.id}`,
    });
  }
  const hash = await publicBundleHash(bundle);
  const publicKey = new ctx.seal.PublicKey();
  const relinKeys = new ctx.seal.RelinKeys();
  let galoisKeys: GaloisKeys | undefined;
  let encryptor: Encryptor | undefined;
  try {
    loadKey("public key", () => publicKey.loadFromArray(ctx.context, bundle.publicKey));
    loadKey("relinearization keys", () => relinKeys.loadFromArray(ctx.context, bundle.relinKeys));
    if (bundle.galoisSteps.length > 0) {
      galoisKeys = new ctx.seal.GaloisKeys();
      const keys = galoisKeys;
      loadKey("Galois keys", () => keys.loadFromArray(ctx.context, bundle.galoisKeys));
    }
    encryptor = sealCall("create an encryptor", () => new ctx.seal.Encryptor(ctx.context, publicKey));
  } catch (error) {
    deleteAll(publicKey, relinKeys, galoisKeys, encryptor);
    throw error;
  }
  const loadedEncryptor = encryptor;
  return {
    parameterSetId: bundle.parameterSetId,
    hash,
    publicKey,
    relinKeys,
    galoisKeys,
    galoisSteps: bundle.galoisSteps,
    encryptor: loadedEncryptor,
    dispose: () => deleteAll(loadedEncryptor, galoisKeys, relinKeys, publicKey),
  };
}

/** What encryption needs of a bundle: its public key's encryptor, named by the bundle's hash. */
export interface EncryptionKey {
  readonly parameterSetId: string;
  /** The bundle's manifest hash (what the chain pins), not the hash of the part loaded. */
  readonly hash: Hex;
  readonly encryptor: Encryptor;
  dispose(): void;
}

/**
 * Loads only a bundle's public key (a contributor's browser needs nothing else: the Galois keys of a deep-v1 bundle
 * are most of its ~180 MB). `hash` is the bundle's manifest hash, verified by the caller against the chain.
 */
export function loadEncryptionKey(ctx: CkksContext, bundle: PublicBundle, hash: Hex): EncryptionKey {
  if (bundle.parameterSetId !== ctx.parameterSet.id) {
    throw new MalformedKeyMaterialError("The public bundle is for another parameter set than the context.", {
      details: `bundle ${bundle.parameterSetId}, context ${ctx.parameterSet.id}`,
    });
  }
  const publicKey = new ctx.seal.PublicKey();
  try {
    loadKey("public key", () => publicKey.loadFromArray(ctx.context, bundle.publicKey));
    const encryptor = sealCall("create an encryptor", () => new ctx.seal.Encryptor(ctx.context, publicKey));
    return {
      parameterSetId: bundle.parameterSetId,
      hash,
      encryptor,
      dispose: () => deleteAll(encryptor, publicKey),
    };
  } catch (error) {
    publicKey.delete();
    throw error;
  }
}

/** A secret key loaded into SEAL with its decryptor (custodian only). `dispose()` frees both. */
export interface LoadedSecretKey {
  readonly secretKey: SecretKey;
  readonly decryptor: Decryptor;
  dispose(): void;
}

/** Loads secret-key bytes (from `generateKeys` or the keystore) into the context. */
export function loadSecretKey(ctx: CkksContext, bytes: Uint8Array): LoadedSecretKey {
  const secretKey = new ctx.seal.SecretKey();
  try {
    loadKey("secret key", () => secretKey.loadFromArray(ctx.context, bytes));
    const decryptor = sealCall("create a decryptor", () => new ctx.seal.Decryptor(ctx.context, secretKey));
    return { secretKey, decryptor, dispose: () => deleteAll(decryptor, secretKey) };
  } catch (error) {
    secretKey.delete();
    throw error;
  }
}

function loadKey(what: string, load: () => void): void {
  try {
    load();
  } catch (error) {
    throw new MalformedKeyMaterialError(`The ${what} bytes are not valid for this parameter set.`, {
      details: describeSealException(error),
      cause: error,
    });
  }
}
