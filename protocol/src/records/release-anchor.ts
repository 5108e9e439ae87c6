import type { Hex } from "../hex";

/** Calldata of the custodian's release anchor: a zero-value transaction to itself carrying (tag, round, hash). */
export const RELEASE_ANCHOR_TAG = "0x43535231"; // "CSR1"

export function releaseAnchorData(round: number, releaseHash: Hex): Hex {
  return `${RELEASE_ANCHOR_TAG}${round.toString(16).padStart(64, "0")}${releaseHash.slice(2)}` as Hex;
}

export function parseReleaseAnchor(data: string): { round: number; releaseHash: Hex } | undefined {
  if (!data.startsWith(RELEASE_ANCHOR_TAG) || data.length !== 10 + 64 + 64) return undefined;
  return { round: Number.parseInt(data.slice(10, 74), 16), releaseHash: `0x${data.slice(74)}` as Hex };
}
