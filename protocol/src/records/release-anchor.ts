// The custodian's release anchor: the contracts have no field for the release record's hash, so the custodian sends
// a zero-value transaction to itself whose calldata is "CSR1" ‖ round ‖ releaseHash. Auditors and the dashboard find
// the latest such transaction of a round's custodian.
import type { PublicClient } from "viem";
import { sameAddress, type Address, type Hex } from "../hex";

export const RELEASE_ANCHOR_TAG = "0x43535231"; // "CSR1"

export function releaseAnchorData(round: number, releaseHash: Hex): Hex {
  return `${RELEASE_ANCHOR_TAG}${round.toString(16).padStart(64, "0")}${releaseHash.slice(2)}` as Hex;
}

export function parseReleaseAnchor(data: string): { round: number; releaseHash: Hex } | undefined {
  if (!data.startsWith(RELEASE_ANCHOR_TAG) || data.length !== 10 + 64 + 64) return undefined;
  return { round: Number.parseInt(data.slice(10, 74), 16), releaseHash: `0x${data.slice(74)}` as Hex };
}

/**
 * Each round's latest release anchor (round → release hash) among the blocks from `fromBlock` on: transactions a
 * round's custodian (`custodianOf`) sent to itself with anchor calldata. Anyone else's "anchor" is ignored.
 */
export async function findReleaseAnchors(
  client: Pick<PublicClient, "getBlockNumber" | "getBlock">,
  custodianOf: ReadonlyMap<number, Address>,
  fromBlock: bigint,
): Promise<Map<number, Hex>> {
  const found = new Map<number, Hex>();
  if (custodianOf.size === 0) return found;
  const latest = await client.getBlockNumber();
  for (let n = fromBlock; n <= latest; n++) {
    const block = await client.getBlock({ blockNumber: n, includeTransactions: true });
    for (const tx of block.transactions) {
      if (tx.to === null || !sameAddress(tx.from, tx.to)) continue;
      const anchor = parseReleaseAnchor(tx.input);
      if (!anchor) continue;
      const custodian = custodianOf.get(anchor.round);
      if (custodian !== undefined && sameAddress(custodian, tx.from)) found.set(anchor.round, anchor.releaseHash);
    }
  }
  return found;
}
