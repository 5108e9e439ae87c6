// Scenario builders shared by the contract tests: a deployment with one program, rounds driven to a phase,
// funded pools.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers } from "hardhat";
import {
  advanceTime,
  deployCipherShare,
  encryptAmount,
  inputsHashOf,
  latestTimestamp,
  type CipherShareDeployment,
} from "@ciphershare/scripts/lib/chain";

/** Where contributors' ciphertexts live: the blob store is content-addressed by the ciphertext hash. */
export const STORE_URI = "https://blobs.ciphershare.dev";
export const COMMIT_PERIOD = 3600;
export const DISPUTE_WINDOW = 600;
export const PUBLIC_KEY_HASH = ethers.id("ckks-public-key-bundle");
export const BASE_MODEL_HASH = ethers.id("base-model-v0");
export const SHAPLEY_SAMPLED = 2;

export enum Phase {
  None,
  Open,
  Closed,
  ResultsPublished,
  Challenged,
  Finalized,
}

export enum Reason {
  None,
  BlobMissing,
  HashMismatch,
  Malformed,
  Policy,
}

export interface Scenario extends CipherShareDeployment {
  network: HardhatEthersSigner;
  coprocessor: HardhatEthersSigner;
  custodian: HardhatEthersSigner;
  auditor: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  contributors: HardhatEthersSigner[];
  programId: bigint;
}

/** Fresh contracts and program 1 (network, coprocessor, custodian); five contributor accounts, not registered. */
export async function deployScenario(): Promise<Scenario> {
  const [network, coprocessor, custodian, auditor, outsider, ...rest] = await ethers.getSigners();
  const deployment = await deployCipherShare(network);
  await deployment.rounds
    .connect(network)
    .createProgram(
      coprocessor.address,
      custodian.address,
      PUBLIC_KEY_HASH,
      SHAPLEY_SAMPLED,
      await deployment.token.getAddress(),
    );
  return {
    ...deployment,
    network,
    coprocessor,
    custodian,
    auditor,
    outsider,
    contributors: rest.slice(0, 5),
    programId: 1n,
  };
}

/** Opens a round of the scenario's program; returns its id. */
export async function openRound(s: Scenario): Promise<bigint> {
  const deadline = (await latestTimestamp()) + BigInt(COMMIT_PERIOD);
  await s.rounds.connect(s.network).openRound(s.programId, BASE_MODEL_HASH, deadline, DISPUTE_WINDOW);
  return s.rounds.roundCount();
}

export const ciphertextHashOf = (roundId: bigint, contributor: string): string =>
  ethers.solidityPackedKeccak256(["string", "uint256", "address"], ["update", roundId, contributor]);

/** Registers (if needed) and commits each signer to `roundId`, with 100 * (i + 1) samples; returns the hashes. */
export async function commitAll(
  s: Scenario,
  roundId: bigint,
  signers: readonly HardhatEthersSigner[],
): Promise<string[]> {
  const hashes: string[] = [];
  for (const [i, signer] of signers.entries()) {
    if (!(await s.rounds.isRegistered(signer.address))) await s.rounds.connect(signer).register("");
    const hash = ciphertextHashOf(roundId, signer.address);
    await s.rounds.connect(signer).commitContribution(roundId, hash, 100 * (i + 1), STORE_URI);
    hashes.push(hash);
  }
  return hashes;
}

/** Closes `roundId` after its deadline and publishes results excluding `excluded` (with reason Policy). */
export async function closeAndPublish(
  s: Scenario,
  roundId: bigint,
  committed: readonly HardhatEthersSigner[],
  hashes: readonly string[],
  excluded: readonly HardhatEthersSigner[] = [],
): Promise<void> {
  await advanceTime(COMMIT_PERIOD + 1);
  await s.rounds.closeRound(roundId);
  const excludedSet = new Set(excluded.map((e) => e.address));
  const included = hashes.filter((_, i) => !excludedSet.has(committed[i].address));
  await s.rounds.connect(s.coprocessor).publishResults(
    roundId,
    ethers.id("aggregate"),
    ethers.id("scores"),
    inputsHashOf(included),
    excluded.map((e) => ({ contributor: e.address, reason: Reason.Policy })),
  );
}

/** A finalized round where `signers` committed and `excluded` (a subset) were excluded. */
export async function finalizedRound(
  s: Scenario,
  signers: readonly HardhatEthersSigner[],
  excluded: readonly HardhatEthersSigner[] = [],
): Promise<bigint> {
  const roundId = await openRound(s);
  const hashes = await commitAll(s, roundId, signers);
  await closeAndPublish(s, roundId, signers, hashes, excluded);
  await advanceTime(DISPUTE_WINDOW + 1);
  await s.rounds.finalizeRound(roundId);
  return roundId;
}

/** `funder` wraps `amount` test ERC-20 into royalty tokens and funds the pool of `roundId` with it. */
export async function fundPool(
  s: Scenario,
  roundId: bigint,
  amount: bigint,
  funder: HardhatEthersSigner = s.network,
): Promise<void> {
  const tokenAddress = await s.token.getAddress();
  const distributorAddress = await s.distributor.getAddress();
  await s.underlying.mint(funder.address, amount);
  await s.underlying.connect(funder).approve(tokenAddress, amount);
  await s.token.connect(funder).wrap(funder.address, amount);
  const until = (await latestTimestamp()) + 86_400n;
  await s.token.connect(funder).setOperator(distributorAddress, until);
  const input = await encryptAmount(distributorAddress, funder.address, amount);
  await s.distributor.connect(funder).fundPool(roundId, input.handle, input.inputProof);
}

/** Closes, publishes (every commitment included, read back from the chain) and finalizes `roundId`. */
export async function finalizeCommitted(s: Scenario, roundId: bigint): Promise<void> {
  const committed = await s.rounds.commitments(roundId, 0n, ethers.MaxUint256);
  await advanceTime(COMMIT_PERIOD + 1);
  await s.rounds.closeRound(roundId);
  const inputs = inputsHashOf(committed.map((c) => c.ciphertextHash));
  await s.rounds
    .connect(s.coprocessor)
    .publishResults(roundId, ethers.id("aggregate"), ethers.id("scores"), inputs, []);
  await advanceTime(DISPUTE_WINDOW + 1);
  await s.rounds.finalizeRound(roundId);
}

/** Asserts that the fhEVM ACL refuses a user decryption (the user or the contract lacks access to the handle). */
export async function expectDecryptionDenied(decryption: Promise<unknown>): Promise<void> {
  let denial: unknown;
  try {
    await decryption;
  } catch (error) {
    denial = error;
  }
  expect(denial, "the user decryption should have been refused").to.be.instanceOf(Error);
  expect((denial as Error).message).to.match(/is not authorized to user decrypt handle/);
}
