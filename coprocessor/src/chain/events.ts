// The hub's events: what the coprocessor watches to find work, and what every role (coprocessor, custodian, auditor)
// reads to learn a round's commitments and exclusions without trusting anyone's database.
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { CommittedContribution, PublishedExclusion } from "@ciphershare/protocol/round/inputs";
import type { ChainReader } from "./clients";

function fromDeployment(deployment: Deployment) {
  return { address: deployment.rounds, abi: roundManagerAbi, fromBlock: BigInt(deployment.deployedAtBlock) } as const;
}

/** The round's commitments in commit order, with the storage URI each contributor gave. */
export async function readCommitments(
  reader: ChainReader,
  deployment: Deployment,
  roundId: bigint,
): Promise<CommittedContribution[]> {
  const logs = await reader.getContractEvents({
    ...fromDeployment(deployment),
    eventName: "ContributionCommitted",
    args: { roundId },
  });
  return logs.map((log, index) => ({
    index,
    contributor: log.args.contributor!,
    ciphertextHash: log.args.ciphertextHash!,
    sampleCount: Number(log.args.sampleCount),
    uri: log.args.uri!,
  }));
}

/** The exclusions the coprocessor published for the round (events persist: after an upheld challenge, both sets). */
export async function readExclusions(
  reader: ChainReader,
  deployment: Deployment,
  roundId: bigint,
): Promise<PublishedExclusion[]> {
  const logs = await reader.getContractEvents({
    ...fromDeployment(deployment),
    eventName: "ContributionExcluded",
    args: { roundId },
  });
  return logs.map((log) => ({ contributor: log.args.contributor!, reason: Number(log.args.reason) }));
}

/** Every round that has been closed, oldest first: the coprocessor's work list, found from `RoundClosed` events. */
export async function readClosedRounds(reader: ChainReader, deployment: Deployment): Promise<bigint[]> {
  const logs = await reader.getContractEvents({ ...fromDeployment(deployment), eventName: "RoundClosed" });
  return [...new Set(logs.map((log) => log.args.roundId!))];
}
