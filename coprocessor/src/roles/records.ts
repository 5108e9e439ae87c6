// The blobs a round publishes besides the contributors' envelopes, and their byte formats. Each is content-addressed
// (keccak256 of its bytes), so a hash on-chain or inside another hashed record pins it.
import { InvalidInputError } from "../errors/base";
import type { Hex } from "../hash/keccak";
import type { Dataset } from "../ml/dataset";

/**
 * What the network publishes for a round; `keccak256(canonical JSON)` is the round's on-chain `baseModelHash`, so
 * the base model and the validation set (the Shapley utility's data) are both pinned by the chain.
 */
export interface RoundManifest {
  readonly kind: "ciphershare.round";
  readonly version: 1;
  /** Hash of the base model blob (`encodeModel`). */
  readonly baseModel: Hex;
  /** Hash of the validation set blob (`encodeDataset`). */
  readonly validation: Hex;
  readonly parameterSet: string;
  readonly dimension: number;
  readonly classes: number;
  /**
   * Whether the release record lists φ per contributor (`"public"`) or only Σφ (`"private"`, the default when
   * absent). Pinned by the manifest's on-chain hash, so the custodian cannot choose it after seeing the scores.
   */
  readonly scoreRelease?: ScoreRelease;
}

/** A round's score release policy: public φ + a public pool = public royalties, so `"private"` is the default. */
export type ScoreRelease = "private" | "public";

export function scoreReleaseOf(manifest: RoundManifest): ScoreRelease {
  return manifest.scoreRelease ?? "private";
}

/** What the custodian releases for a round; anchored on-chain by a transaction (see `releaseAnchorData`). */
export interface ReleaseRecord {
  readonly kind: "ciphershare.release";
  readonly version: 1;
  readonly round: number;
  readonly aggregate: Hex;
  readonly scores: Hex;
  /** Hash of the new global model blob: the decrypted FedAvg aggregate (flooded). */
  readonly globalModel: Hex;
  /** Included contributors in commit order. */
  readonly contributors: readonly string[];
  /**
   * Σφ of the flooded Shapley values, for the efficiency check. The individual φ stay with the custodian: with the
   * public pool they would reveal every royalty.
   */
  readonly phiSum: number;
  readonly utilityEmpty: number;
  readonly floodingSigma: number;
  /** The manifest's policy; `phi` and `flagged` are present only when it is `"public"`. */
  readonly scoreRelease?: ScoreRelease;
  /** Flooded φ per contributor, in `contributors` order (public score release only). */
  readonly phi?: readonly number[];
  /** Contributors with φ ≤ 0, who receive no share (public score release only). */
  readonly flagged?: readonly string[];
}

/**
 * The per-contributor part of a release record under a policy: always Σφ; φ and the flagged contributors (φ ≤ 0,
 * who get no share) only when the round's manifest chose `"public"`.
 */
export function releasedScores(
  policy: ScoreRelease,
  contributors: readonly string[],
  phi: readonly number[],
): Pick<ReleaseRecord, "phiSum" | "scoreRelease" | "phi" | "flagged"> {
  if (phi.length !== contributors.length) {
    throw new InvalidInputError("There must be one φ per included contributor.", {
      details: `${phi.length} φ for ${contributors.length} contributors`,
    });
  }
  const phiSum = phi.reduce((a, b) => a + b, 0);
  if (policy === "private") return { phiSum, scoreRelease: policy };
  return { phiSum, scoreRelease: policy, phi: [...phi], flagged: contributors.filter((_, i) => !(phi[i] > 0)) };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJsonRecord(record: RoundManifest | ReleaseRecord): Uint8Array {
  return encoder.encode(JSON.stringify(record));
}

export function decodeRoundManifest(bytes: Uint8Array): RoundManifest {
  const value = parseJson(bytes, "round manifest") as Partial<RoundManifest>;
  if (value.kind !== "ciphershare.round" || value.version !== 1 || typeof value.baseModel !== "string") {
    throw new InvalidInputError("This blob is not a round manifest.", { details: JSON.stringify(value).slice(0, 120) });
  }
  if (value.scoreRelease !== undefined && value.scoreRelease !== "private" && value.scoreRelease !== "public") {
    throw new InvalidInputError('A round manifest\'s scoreRelease must be "private" or "public".', {
      details: JSON.stringify(value.scoreRelease),
    });
  }
  return value as RoundManifest;
}

export function decodeReleaseRecord(bytes: Uint8Array): ReleaseRecord {
  const value = parseJson(bytes, "release record") as Partial<ReleaseRecord>;
  if (value.kind !== "ciphershare.release" || value.version !== 1 || typeof value.phiSum !== "number") {
    throw new InvalidInputError("This blob is not a release record.", { details: JSON.stringify(value).slice(0, 120) });
  }
  return value as ReleaseRecord;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new InvalidInputError(`The ${what} is not valid JSON.`, { details: `${bytes.length} bytes`, cause: error });
  }
}

const DATASET_MAGIC = "CSD1";

/** "CSD1", size, dimension, classes (uint32 LE), features (float64 LE, row-major), labels (uint8). */
export function encodeDataset(data: Dataset): Uint8Array {
  const header = 16;
  const bytes = new Uint8Array(header + data.features.length * 8 + data.labels.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = DATASET_MAGIC.charCodeAt(i);
  view.setUint32(4, data.size, true);
  view.setUint32(8, data.dimension, true);
  view.setUint32(12, data.classes, true);
  data.features.forEach((value, i) => view.setFloat64(header + i * 8, value, true));
  bytes.set(data.labels, header + data.features.length * 8);
  return bytes;
}

export function decodeDataset(bytes: Uint8Array): Dataset {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < 16 || magic !== DATASET_MAGIC) {
    throw new InvalidInputError("These bytes are not an encoded dataset.", {
      details: `starts ${JSON.stringify(magic)}`,
    });
  }
  const size = view.getUint32(4, true);
  const dimension = view.getUint32(8, true);
  const classes = view.getUint32(12, true);
  const expected = 16 + size * dimension * 8 + size;
  if (bytes.length !== expected) {
    throw new InvalidInputError("The encoded dataset has the wrong length.", {
      details: `${bytes.length} bytes, expected ${expected}`,
    });
  }
  const features = new Float64Array(size * dimension);
  for (let i = 0; i < features.length; i++) features[i] = view.getFloat64(16 + i * 8, true);
  const labels = bytes.slice(16 + features.length * 8);
  return { features, labels, size, dimension, classes };
}

/** Calldata of the custodian's release anchor: a zero-value transaction to itself carrying (tag, round, hash). */
export const RELEASE_ANCHOR_TAG = "0x43535231"; // "CSR1"

export function releaseAnchorData(round: number, releaseHash: Hex): Hex {
  return `${RELEASE_ANCHOR_TAG}${round.toString(16).padStart(64, "0")}${releaseHash.slice(2)}` as Hex;
}

export function parseReleaseAnchor(data: string): { round: number; releaseHash: Hex } | undefined {
  if (!data.startsWith(RELEASE_ANCHOR_TAG) || data.length !== 10 + 64 + 64) return undefined;
  return { round: Number.parseInt(data.slice(10, 74), 16), releaseHash: `0x${data.slice(74)}` as Hex };
}
