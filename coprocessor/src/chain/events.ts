// The hub's events, read with viem: what the coprocessor watches to find work, and what every role (coprocessor,
// custodian, auditor) reads to learn a round's commitments and exclusions without trusting anyone's database.
import { createPublicClient, http, parseAbiItem, type PublicClient } from "viem";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { Deployment } from "./ciphershare";

/** A viem client on the chain's JSON-RPC endpoint; every event read goes through it. */
export type ChainEvents = PublicClient;

export function chainEvents(rpcUrl: string): ChainEvents {
  // Polling every second keeps a local chain's events prompt without flooding a remote endpoint.
  return createPublicClient({ transport: http(rpcUrl), pollingInterval: 1_000 });
}

const contributionCommitted = parseAbiItem(
  "event ContributionCommitted(uint256 indexed roundId, address indexed contributor, bytes32 ciphertextHash, uint64 sampleCount, string uri)",
);
const contributionExcluded = parseAbiItem(
  "event ContributionExcluded(uint256 indexed roundId, address indexed contributor, uint8 reason)",
);
const roundClosed = parseAbiItem("event RoundClosed(uint256 indexed roundId, uint256 commitCount)");

export interface CommittedContribution {
  /** Position in commit order: the n-th `ContributionCommitted` of a round is commitment n. */
  readonly index: number;
  readonly contributor: Address;
  readonly ciphertextHash: Hex;
  readonly sampleCount: number;
  readonly uri: string;
}

export interface PublishedExclusion {
  readonly contributor: Address;
  readonly reason: number;
}

function fromDeployment(deployment: Deployment) {
  return { address: deployment.rounds, fromBlock: BigInt(deployment.deployedAtBlock) } as const;
}

/** The round's commitments in commit order, with the storage URI each contributor gave. */
export async function readCommitments(
  events: ChainEvents,
  deployment: Deployment,
  roundId: bigint,
): Promise<CommittedContribution[]> {
  const logs = await events.getLogs({ ...fromDeployment(deployment), event: contributionCommitted, args: { roundId } });
  return logs.map((log, index) => ({
    index,
    contributor: log.args.contributor as Address,
    ciphertextHash: log.args.ciphertextHash as Hex,
    sampleCount: Number(log.args.sampleCount),
    uri: String(log.args.uri),
  }));
}

/** The exclusions the coprocessor published for the round (events persist: after an upheld challenge, both sets). */
export async function readExclusions(
  events: ChainEvents,
  deployment: Deployment,
  roundId: bigint,
): Promise<PublishedExclusion[]> {
  const logs = await events.getLogs({ ...fromDeployment(deployment), event: contributionExcluded, args: { roundId } });
  return logs.map((log) => ({ contributor: log.args.contributor as Address, reason: Number(log.args.reason) }));
}

/** Every round that has been closed, oldest first: the coprocessor's work list, found from `RoundClosed` events. */
export async function readClosedRounds(events: ChainEvents, deployment: Deployment): Promise<bigint[]> {
  const logs = await events.getLogs({ ...fromDeployment(deployment), event: roundClosed });
  return [...new Set(logs.map((log) => log.args.roundId as bigint))];
}
