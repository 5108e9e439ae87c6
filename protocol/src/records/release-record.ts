import { InvalidInputError } from "../errors";
import type { Hex } from "../hex";
import { parseJsonRecord } from "./json";
import type { ScoreRelease } from "./round-manifest";

/** What the custodian releases for a round; anchored on-chain by `anchorRelease` (a `ReleaseAnchored` log). */
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
  /**
   * How φ were valued: exact up to the exact limit (300 contributions); above it, permutation sampling, with the
   * relative standard error of its coefficients (max over contributors).
   */
  readonly valuation?:
    | { readonly method: "exact" }
    | { readonly method: "sampled"; readonly permutations: number; readonly maxRelativeError: number };
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

export function decodeReleaseRecord(bytes: Uint8Array): ReleaseRecord {
  const value = parseJsonRecord(bytes, "release record") as Partial<ReleaseRecord>;
  if (value.kind !== "ciphershare.release" || value.version !== 1 || typeof value.phiSum !== "number") {
    throw new InvalidInputError("This blob is not a release record.", { details: JSON.stringify(value).slice(0, 120) });
  }
  return value as ReleaseRecord;
}
