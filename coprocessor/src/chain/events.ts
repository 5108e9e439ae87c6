// The hub's reads and events every role derives a round from without trusting anyone's database: commitments (read
// in pages: an `eth_call` has a gas cap), their reveals (URIs), duplicates, publications (reason bytes), finalization
// and the release anchor; and the work lists (rounds to publish, to release, programs a custodian accepted).
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { COMMITMENTS_PER_READ, type CommitmentStatusCode } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { findReleaseAnchors, type ReleaseAnchor } from "@ciphershare/protocol/records/release-anchor";
import { parseReasons, type RoundCommitment } from "@ciphershare/protocol/round/inputs";
import type { ChainReader } from "./clients";
import { contractsToRead } from "./contracts";

function fromDeployment(deployment: Deployment) {
  return { address: deployment.rounds, abi: roundManagerAbi, fromBlock: BigInt(deployment.deployedAtBlock) } as const;
}

/**
 * The round's commitments in commit order: contributor, sample count, status and revealed hash from
 * `commitments(round, offset, limit)` (pages of `COMMITMENTS_PER_READ`), each revealed one's URI from its
 * `ContributionRevealed` event.
 */
export async function readCommitments(
  reader: ChainReader,
  deployment: Deployment,
  roundId: bigint,
): Promise<RoundCommitment[]> {
  const { rounds } = contractsToRead(deployment, reader);
  const { commitCount } = await rounds.read.round([roundId]);
  const page = BigInt(COMMITMENTS_PER_READ);
  const pages: Promise<
    readonly { contributor: Address; sampleCount: bigint; status: number; ciphertextHash: Hex }[]
  >[] = [];
  for (let offset = 0n; offset < BigInt(commitCount); offset += page) {
    pages.push(rounds.read.commitments([roundId, offset, page]));
  }
  const [onChain, reveals] = await Promise.all([
    Promise.all(pages),
    reader.getContractEvents({ ...fromDeployment(deployment), eventName: "ContributionRevealed", args: { roundId } }),
  ]);
  const uris = new Map(reveals.map((log) => [Number(log.args.index), log.args.uri!]));
  return onChain.flat().map((c, index) => ({
    index,
    contributor: c.contributor,
    sampleCount: Number(c.sampleCount),
    status: c.status as CommitmentStatusCode,
    ciphertextHash: c.ciphertextHash,
    uri: uris.get(index) ?? "",
  }));
}

/** Where a Duplicate commitment's hash was revealed first: commitment index → (round, index), from `DuplicateRevealed`. */
export async function readDuplicates(
  reader: ChainReader,
  deployment: Deployment,
  roundId: bigint,
): Promise<Map<number, { round: number; index: number }>> {
  const logs = await reader.getContractEvents({
    ...fromDeployment(deployment),
    eventName: "DuplicateRevealed",
    args: { roundId },
  });
  return new Map(
    logs.map((log) => [
      Number(log.args.index),
      { round: Number(log.args.firstRoundId), index: Number(log.args.firstIndex) },
    ]),
  );
}

/** A publication's reason bytes (one per commitment, commit order), discarded publications included. */
export async function readReasons(
  reader: ChainReader,
  deployment: Deployment,
  roundId: bigint,
  publication: number,
  commitCount: number,
): Promise<Uint8Array> {
  const reasons = await contractsToRead(deployment, reader).rounds.read.exclusionReasons([
    roundId,
    BigInt(publication),
  ]);
  return parseReasons(reasons, commitCount);
}

/** The `RoundFinalized` log of a round (with the publication it finalized), or undefined before finalization. */
export async function readFinalization(
  reader: ChainReader,
  deployment: Deployment,
  roundId: bigint,
): Promise<{ publication: number; blockNumber: bigint } | undefined> {
  const logs = await reader.getContractEvents({
    ...fromDeployment(deployment),
    eventName: "RoundFinalized",
    args: { roundId },
  });
  const last = logs.at(-1);
  return last === undefined ? undefined : { publication: Number(last.args.publication), blockNumber: last.blockNumber };
}

/**
 * The block of the round's last `RoundClosed` log and that block's hash, or undefined before it closed: the later
 * block randomness a training round's residual challenge is drawn from (fixed after every upload was committed).
 */
export async function readRoundClosedBlock(
  reader: ChainReader,
  deployment: Deployment,
  roundId: bigint,
): Promise<{ blockNumber: bigint; blockHash: Hex } | undefined> {
  const logs = await reader.getContractEvents({
    ...fromDeployment(deployment),
    eventName: "RoundClosed",
    args: { roundId },
  });
  const last = logs.at(-1);
  if (last === undefined) return undefined;
  const block = await reader.getBlock({ blockNumber: last.blockNumber });
  return { blockNumber: last.blockNumber, blockHash: block.hash };
}

/** The round's `ReleaseAnchored` log, or undefined until the custodian anchored its release. */
export async function readReleaseAnchor(
  reader: ChainReader,
  deployment: Deployment,
  roundId: bigint,
): Promise<ReleaseAnchor | undefined> {
  const anchors = await findReleaseAnchors(reader, deployment.rounds, {
    rounds: [roundId],
    fromBlock: BigInt(deployment.deployedAtBlock),
  });
  return anchors.get(Number(roundId));
}

/**
 * Rounds that were Closed at some point, oldest first: by `RoundClosed`, or back to Closed by an upheld challenge
 * (`ChallengeResolved(…, true)`). The coprocessor's work list (it still checks each round's current phase).
 */
export async function readClosedRounds(reader: ChainReader, deployment: Deployment): Promise<bigint[]> {
  const [closed, resolved] = await Promise.all([
    reader.getContractEvents({ ...fromDeployment(deployment), eventName: "RoundClosed" }),
    reader.getContractEvents({ ...fromDeployment(deployment), eventName: "ChallengeResolved" }),
  ]);
  const ids = [
    ...closed.map((log) => log.args.roundId!),
    ...resolved.filter((log) => log.args.upheld === true).map((log) => log.args.roundId!),
  ];
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Rounds that got a publication (`ResultsPublished`), oldest first: the custodian recomputes each standing
 * publication during its dispute window (it still checks each round's current phase).
 */
export async function readPublishedRounds(reader: ChainReader, deployment: Deployment): Promise<bigint[]> {
  const logs = await reader.getContractEvents({ ...fromDeployment(deployment), eventName: "ResultsPublished" });
  return [...new Set(logs.map((log) => log.args.roundId!))];
}

/** Rounds that were finalized (`RoundFinalized`), oldest first: the custodian's work list. */
export async function readFinalizedRounds(reader: ChainReader, deployment: Deployment): Promise<bigint[]> {
  const logs = await reader.getContractEvents({ ...fromDeployment(deployment), eventName: "RoundFinalized" });
  return [...new Set(logs.map((log) => log.args.roundId!))];
}

/** Programs `custodian` accepted on-chain (`ProgramAccepted`), oldest first. */
export async function readAcceptedPrograms(
  reader: ChainReader,
  deployment: Deployment,
  custodian: Address,
): Promise<bigint[]> {
  const logs = await reader.getContractEvents({
    ...fromDeployment(deployment),
    eventName: "ProgramAccepted",
    args: { custodian },
  });
  return [...new Set(logs.map((log) => log.args.programId!))];
}
