import { bytesToHex, hexToBytes, type Hex } from "../hex";
import { MalformedKeyMaterialError } from "./errors";
import { getParameterSet, getParameterSetByNumericId } from "./params";

/**
 * What a program pins on-chain for its epoch keys: a 70-byte manifest naming the two halves of the custodian's
 * public bundle by their keccak256. The **encryption bundle** (the public key under a parameter set, ~0.8 MB at
 * N = 16384) is all a contributor downloads; the **evaluation bundle** (relinearization and Galois keys, hundreds of
 * MB) only the coprocessor and the auditor fetch. The manifest's keccak256 is the program's `publicKeyHash` and the
 * `publicBundleHash` every envelope header carries, so each half is authenticated by the chain through it.
 */
export interface BundleManifest {
  readonly parameterSetId: string;
  /** keccak256 of the encryption bundle's bytes. */
  readonly encryptionHash: Hex;
  /** keccak256 of the evaluation bundle's bytes. */
  readonly evaluationHash: Hex;
}

const MANIFEST_MAGIC = [0x43, 0x53, 0x50, 0x4d]; // "CSPM"
const MANIFEST_FORMAT_VERSION = 1;
/** magic(4) version(1) parameterSet(1) encryptionHash(32) evaluationHash(32). */
export const BUNDLE_MANIFEST_BYTES = 70;

/** Deterministic bytes of a manifest (big-endian, fixed size). */
export function serializeBundleManifest(manifest: BundleManifest): Uint8Array {
  const set = getParameterSet(manifest.parameterSetId);
  const out = new Uint8Array(BUNDLE_MANIFEST_BYTES);
  out.set(MANIFEST_MAGIC, 0);
  out[4] = MANIFEST_FORMAT_VERSION;
  out[5] = set.numericId;
  out.set(hexToBytes(manifest.encryptionHash, 32), 6);
  out.set(hexToBytes(manifest.evaluationHash, 32), 38);
  return out;
}

/** Parses `serializeBundleManifest` output; anything else is refused with what was wrong. */
export function parseBundleManifest(bytes: Uint8Array): BundleManifest {
  const fail = (problem: string, details?: string): never => {
    throw new MalformedKeyMaterialError(`Malformed key bundle manifest: ${problem}.`, { details });
  };
  if (bytes.length !== BUNDLE_MANIFEST_BYTES)
    fail("wrong size", `${bytes.length} bytes, expected ${BUNDLE_MANIFEST_BYTES}`);
  if (MANIFEST_MAGIC.some((byte, i) => bytes[i] !== byte)) fail("bad magic (not a CipherShare key bundle manifest)");
  if (bytes[4] !== MANIFEST_FORMAT_VERSION) fail("unsupported format version", `${bytes[4]}`);
  return {
    parameterSetId: getParameterSetByNumericId(bytes[5]).id,
    encryptionHash: bytesToHex(bytes.subarray(6, 38)),
    evaluationHash: bytesToHex(bytes.subarray(38, 70)),
  };
}
