import { InvalidInputError } from "../errors";
import { isBytes32Hex, type Hex } from "../hex";
import { parseJsonRecord } from "./json";

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
  /**
   * Hash of the validation factor R's blob (`encodeProjectionFactor`, the R of the validation set's QR): what a
   * contributor needs to submit its projection R·w. Absent in rounds opened without it (contributors then submit the
   * model alone). Every computing role checks it is the R of `validation` before using it.
   */
  readonly projectionFactor?: Hex;
}

/** A round's score release policy: public φ + a public pool = public royalties, so `"private"` is the default. */
export type ScoreRelease = "private" | "public";

export function scoreReleaseOf(manifest: RoundManifest): ScoreRelease {
  return manifest.scoreRelease ?? "private";
}

export function decodeRoundManifest(bytes: Uint8Array): RoundManifest {
  const value = parseJsonRecord(bytes, "round manifest") as Partial<RoundManifest>;
  if (value.kind !== "ciphershare.round" || value.version !== 1 || typeof value.baseModel !== "string") {
    throw new InvalidInputError("This blob is not a round manifest.", { details: JSON.stringify(value).slice(0, 120) });
  }
  if (value.scoreRelease !== undefined && value.scoreRelease !== "private" && value.scoreRelease !== "public") {
    throw new InvalidInputError('A round manifest\'s scoreRelease must be "private" or "public".', {
      details: JSON.stringify(value.scoreRelease),
    });
  }
  if (value.projectionFactor !== undefined && !isBytes32Hex(String(value.projectionFactor))) {
    throw new InvalidInputError("A round manifest's projectionFactor must be a 32-byte hash.", {
      details: JSON.stringify(value.projectionFactor).slice(0, 120),
    });
  }
  return value as RoundManifest;
}
