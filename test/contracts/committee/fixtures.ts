// A scenario whose program is custodied by a t-of-n CustodianCommittee (the committee contract is the program's
// custodian on the hub), with helpers to drive a round's release and settlement through the committee.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ethers, fhevm } from "hardhat";
import { programConfig } from "@ciphershare/protocol/chain/program";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { encryptShares } from "@ciphershare/scripts/lib/chain";
import type { CustodianCommittee } from "typechain-types";
import {
  PUBLIC_KEY_HASH,
  SCENARIO_TERMS,
  SHAPLEY_SAMPLED,
  closeAndPublish,
  contribute,
  deployScenario,
  finalize,
  openRound,
  type Scenario,
} from "../fixtures";

export interface CommitteeScenario extends Scenario {
  committee: CustodianCommittee;
  committeeAddress: string;
  members: HardhatEthersSigner[];
  /** An account that is in no committee. */
  stranger: HardhatEthersSigner;
  threshold: number;
  shareCommitments: string[];
  /** The committee program (registered, every member accepted). */
  committeeProgram: bigint;
}

export const shareCommitmentOf = (member: number): string => ethers.id(`key share of member ${member}`);
export const RELEASE = ethers.id("release record");
export const SHARE_HASHES = (member: number): string[] => [
  ethers.id(`partial aggregate ${member}`),
  ethers.id(`partial scores ${member}`),
];

/** A program naming the committee contract as custodian, created by the scenario's network; returns its id. */
export async function createCommitteeProgram(s: Scenario, committeeAddress: string): Promise<bigint> {
  const config = programConfig(
    {
      coprocessor: s.coprocessor.address as Address,
      custodian: committeeAddress as Address,
      payoutToken: (await s.token.getAddress()) as Address,
      publicKeyHash: PUBLIC_KEY_HASH as Hex,
      valuationMethod: SHAPLEY_SAMPLED,
    },
    SCENARIO_TERMS,
  );
  await (await s.rounds.connect(s.network).createProgram(config)).wait();
  return s.rounds.programCount();
}

/**
 * The base scenario plus a committee contract and a `threshold`-of-`memberCount` committee program (members are
 * Hardhat accounts 10…); `accept` = false leaves the members' acceptances to the test.
 */
export async function deployCommitteeScenario(
  options: { memberCount?: number; threshold?: number; accept?: boolean } = {},
): Promise<CommitteeScenario> {
  const { memberCount = 3, threshold = 2, accept = true } = options;
  const s = await deployScenario();
  const signers = await ethers.getSigners();
  const members = signers.slice(10, 10 + memberCount);
  const committee = await ethers.deployContract("CustodianCommittee", [
    await s.rounds.getAddress(),
    await s.distributor.getAddress(),
  ]);
  await committee.waitForDeployment();
  const committeeAddress = await committee.getAddress();
  const committeeProgram = await createCommitteeProgram(s, committeeAddress);
  const shareCommitments = members.map((_, i) => shareCommitmentOf(i + 1));
  await committee.connect(s.network).registerCommittee(
    committeeProgram,
    members.map((m) => m.address),
    threshold,
    shareCommitments,
  );
  if (accept) {
    for (const [i, member] of members.entries()) {
      await committee.connect(member).acceptProgramShare(committeeProgram, shareCommitments[i]);
    }
  }
  return {
    ...s,
    committee,
    committeeAddress,
    members,
    stranger: signers[19],
    threshold,
    shareCommitments,
    committeeProgram,
  };
}

/** A finalized round of the committee program where the first two contributors took part. */
export async function finalizedCommitteeRound(c: CommitteeScenario): Promise<bigint> {
  const roundId = await openRound(c, c.committeeProgram);
  await contribute(c, roundId, c.contributors.slice(0, 2));
  await closeAndPublish(c, roundId);
  await finalize(c, roundId);
  return roundId;
}

/** `who` join, submit their share hashes and approve `release` (each step for all of them in turn). */
export async function releaseBy(
  c: CommitteeScenario,
  roundId: bigint,
  who: readonly HardhatEthersSigner[],
  release = RELEASE,
): Promise<void> {
  for (const member of who) await c.committee.connect(member).joinRelease(roundId);
  for (const member of who) {
    const number = Number(await c.committee.memberNumberOf(c.committeeProgram, member.address));
    await c.committee.connect(member).submitDecryptionShares(roundId, SHARE_HASHES(number));
  }
  for (const member of who) await c.committee.connect(member).approveRelease(roundId, release);
}

/** `member` encrypts `shares` as inputs of the committee contract for itself. */
export function encryptForCommittee(c: CommitteeScenario, member: HardhatEthersSigner, shares: readonly bigint[]) {
  return encryptShares(c.committeeAddress, member.address, shares);
}

/** `proposer` proposes settling `contributors` with `shares`; returns the proposal id. */
export async function propose(
  c: CommitteeScenario,
  roundId: bigint,
  proposer: HardhatEthersSigner,
  contributors: readonly string[],
  shares: readonly bigint[],
): Promise<bigint> {
  const encrypted = await encryptForCommittee(c, proposer, shares);
  await c.committee
    .connect(proposer)
    .proposeSettlement(roundId, [...contributors], encrypted.handles, encrypted.inputProofs);
  return c.committee.proposalCount();
}

/** `member` confirms `proposalId` with its own encryption of `shares`; returns its agreement's handle. */
export async function confirm(
  c: CommitteeScenario,
  proposalId: bigint,
  member: HardhatEthersSigner,
  shares: readonly bigint[],
): Promise<string> {
  const encrypted = await encryptForCommittee(c, member, shares);
  await c.committee.connect(member).confirmSettlement(proposalId, encrypted.handles, encrypted.inputProofs);
  return c.committee.agreementOf(proposalId, member.address);
}

/** The KMS's public decryption of the agreements of `confirmers` (ascending addresses). */
export async function agreementProof(c: CommitteeScenario, proposalId: bigint, confirmers: readonly string[]) {
  const handles = await Promise.all(confirmers.map((m) => c.committee.agreementOf(proposalId, m)));
  return fhevm.publicDecrypt(handles);
}

export const ascending = (addresses: readonly string[]): string[] =>
  [...addresses].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
