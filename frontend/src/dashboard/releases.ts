import type { Address, Hex } from "viem";
import { decodeReleaseRecord, type ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { checkBlob } from "../contribute/keyBundle";
import type { RoundScores } from "./scoreSeries";

/** A release record from the blob store, re-hashed against the anchored hash (the store's word is not taken). */
export async function fetchReleaseRecord(coprocessorUrl: string, hash: Hex): Promise<ReleaseRecord> {
  const found = await checkBlob(coprocessorUrl, hash);
  if (found.status === "missing") throw new Error(`The blob store has no release record ${hash}.`);
  if (found.status === "restricted") throw new Error(`The blob store refused the release record ${hash}.`);
  if (found.status === "mismatch")
    throw new Error(`The release record served for ${hash} hashes to ${found.actualHash}.`);
  return decodeReleaseRecord(found.bytes);
}

/** What a round released about scores, for the dashboard. */
export type ReleasedScores =
  | {
      readonly visibility: "public";
      readonly scores: RoundScores;
      readonly flagged: readonly Address[];
      readonly phiSum: number;
    }
  | { readonly visibility: "private"; readonly contributors: number; readonly phiSum: number };

/** A release record as the dashboard shows it: φ per contributor only when the round's policy made them public. */
export function releasedScores(record: ReleaseRecord): ReleasedScores {
  if (record.scoreRelease !== "public" || record.phi === undefined) {
    return { visibility: "private", contributors: record.contributors.length, phiSum: record.phiSum };
  }
  if (record.phi.length !== record.contributors.length) {
    throw new Error(
      `Round ${record.round}'s release lists ${record.phi.length} scores for ${record.contributors.length} contributors.`,
    );
  }
  const phi = record.phi;
  return {
    visibility: "public",
    scores: {
      round: record.round,
      scores: record.contributors.map((contributor, i) => ({ contributor: contributor as Address, score: phi[i]! })),
    },
    flagged: (record.flagged ?? []) as Address[],
    phiSum: record.phiSum,
  };
}
