import type { Address, Hex, PublicClient } from "viem";
import { decodeReleaseRecord, type ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { findReleaseAnchors as findAnchorsFrom } from "@ciphershare/protocol/records/release-anchor";
import { checkBlob } from "../contribute/keyBundle";
import type { RoundScores } from "./scoreSeries";

/** How far back the dashboard looks for release anchors (a local chain has a few hundred blocks). */
export const ANCHOR_SCAN_BLOCKS = 5_000n;

/** The custodians' release anchors in the recent blocks: round → the latest release hash, as the auditor reads them. */
export async function findReleaseAnchors(
  client: Pick<PublicClient, "getBlockNumber" | "getBlock">,
  custodianOf: ReadonlyMap<number, Address>,
): Promise<Map<number, Hex>> {
  if (custodianOf.size === 0) return new Map();
  const latest = await client.getBlockNumber();
  return findAnchorsFrom(client, custodianOf, latest > ANCHOR_SCAN_BLOCKS ? latest - ANCHOR_SCAN_BLOCKS : 0n);
}

/** A release record from the blob store, re-hashed against the anchored hash (the store's word is not taken). */
export async function fetchReleaseRecord(coprocessorUrl: string, hash: Hex): Promise<ReleaseRecord> {
  const found = await checkBlob(coprocessorUrl, hash);
  if (found.status === "missing") throw new Error(`The blob store has no release record ${hash}.`);
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
