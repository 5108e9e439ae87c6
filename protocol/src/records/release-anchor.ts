// The custodian's release anchor: `anchorRelease(round, releaseHash)` on the hub, allowed once per round, only for
// the program's accepted custodian and only once the round is Finalized. Auditors and the dashboard find anchors
// with `getLogs` on `ReleaseAnchored` (no block scanning; nobody else can emit one).
import type { PublicClient } from "viem";
import { roundManagerAbi } from "../chain/abis";
import type { Address, Hex } from "../hex";

/** One `ReleaseAnchored` log. */
export interface ReleaseAnchor {
  readonly round: number;
  /** The publication the release was made from (the one the round was finalized with). */
  readonly publication: number;
  readonly releaseHash: Hex;
  readonly blockNumber: bigint;
}

/** Each round's release anchor (round → anchor) among the hub's logs from `fromBlock` on, for `rounds` or every round. */
export async function findReleaseAnchors(
  client: Pick<PublicClient, "getContractEvents">,
  hub: Address,
  options: { rounds?: readonly bigint[]; fromBlock?: bigint } = {},
): Promise<Map<number, ReleaseAnchor>> {
  const found = new Map<number, ReleaseAnchor>();
  if (options.rounds !== undefined && options.rounds.length === 0) return found;
  const logs = await client.getContractEvents({
    address: hub,
    abi: roundManagerAbi,
    eventName: "ReleaseAnchored",
    args: options.rounds === undefined ? undefined : { roundId: [...options.rounds] },
    fromBlock: options.fromBlock ?? 0n,
  });
  for (const log of logs) {
    const round = Number(log.args.roundId);
    found.set(round, {
      round,
      publication: Number(log.args.publication),
      releaseHash: log.args.releaseHash!,
      blockNumber: log.blockNumber,
    });
  }
  return found;
}
