// Scenario builders shared by the contract and adversarial tests: a deployment with one accepted program, rounds
// driven through commit, reveal, close, publication and finalization, funded pools.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import type { Signer } from "ethers";
import { ethers, fhevm } from "hardhat";
import { CancelReason, RoundPhase, type RoundPhaseCode } from "@ciphershare/protocol/chain/constants";
import {
  ExclusionReason,
  advanceTo,
  createAcceptedProgram,
  deployCipherShare,
  encryptAmount,
  encryptShares,
  latestTimestamp,
  publicationOf,
  sealOf,
  type CipherShareDeployment,
  type ProgramTerms,
} from "@ciphershare/scripts/lib/chain";

export { ExclusionReason as Reason } from "@ciphershare/scripts/lib/chain";

/** Where contributors' ciphertexts live: the blob store is content-addressed by the ciphertext hash. */
export const STORE_URI = "https://blobs.ciphershare.dev";
export const COMMIT_PERIOD = 3600;
export const REVEAL_WINDOW = 1800;
export const DISPUTE_WINDOW = 600;
export const PUBLIC_KEY_HASH = ethers.id("ckks-public-key-bundle");
export const BASE_MODEL_HASH = ethers.id("base-model-v0");
export const SHAPLEY_SAMPLED = 2;
/** The scenario's program accepts rounds of a single contributor, so that tests stay small; see the minimum tests. */
export const SCENARIO_TERMS: ProgramTerms = { minContributors: 1 };

/** `IRoundManager.RoundPhase` (Reveal and Cancelled were appended to keep the earlier numbers). */
export const Phase = RoundPhase;
export type Phase = RoundPhaseCode;

export { CancelReason };

export interface Scenario extends CipherShareDeployment {
  network: HardhatEthersSigner;
  coprocessor: HardhatEthersSigner;
  custodian: HardhatEthersSigner;
  auditor: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  contributors: HardhatEthersSigner[];
  programId: bigint;
}

/** Fresh contracts and program 1 (network, coprocessor, custodian; accepted); five contributor accounts, not registered. */
export async function deployScenario(terms: ProgramTerms = SCENARIO_TERMS): Promise<Scenario> {
  const [network, coprocessor, custodian, auditor, outsider, ...rest] = await ethers.getSigners();
  const deployment = await deployCipherShare(network);
  const s: Scenario = {
    ...deployment,
    network,
    coprocessor,
    custodian,
    auditor,
    outsider,
    contributors: rest.slice(0, 5),
    programId: 0n,
  };
  s.programId = await createProgram(s, terms);
  return s;
}

/** Another accepted program of the scenario's network, coprocessor and custodian, with `terms`. */
export async function createProgram(s: Scenario, terms: ProgramTerms): Promise<bigint> {
  return createAcceptedProgram(
    s.rounds,
    s.network,
    {
      coprocessor: s.coprocessor.address,
      custodian: s.custodian,
      payoutToken: await s.token.getAddress(),
      publicKeyHash: PUBLIC_KEY_HASH,
      valuationMethod: SHAPLEY_SAMPLED,
    },
    terms,
  );
}

/** Opens a round of the scenario's program (or `programId`); returns its id. */
export async function openRound(
  s: Scenario,
  programId = s.programId,
  commitPeriod = COMMIT_PERIOD,
  revealWindow = REVEAL_WINDOW,
): Promise<bigint> {
  const deadline = (await latestTimestamp()) + BigInt(commitPeriod);
  await s.rounds.connect(s.network).openRound(programId, BASE_MODEL_HASH, deadline, revealWindow, DISPUTE_WINDOW);
  return s.rounds.roundCount();
}

export const ciphertextHashOf = (roundId: bigint, contributor: string): string =>
  ethers.solidityPackedKeccak256(["string", "uint256", "address"], ["update", roundId, contributor]);

/**
 * Registers (if needed) and commits each signer to `roundId` (sealed, with the round's deposit), with 100 * (i + 1)
 * samples and the hash `hashes[i]` (default: {ciphertextHashOf}); returns the hashes.
 */
export async function commitAll(
  s: Scenario,
  roundId: bigint,
  signers: readonly Signer[],
  hashes?: readonly string[],
): Promise<string[]> {
  const deposit = (await s.rounds.round(roundId)).commitDeposit;
  const committed: string[] = [];
  for (const [i, signer] of signers.entries()) {
    const address = await signer.getAddress();
    if (!(await s.rounds.isRegistered(address))) await s.rounds.connect(signer).register("");
    const hash = hashes?.[i] ?? ciphertextHashOf(roundId, address);
    await s.rounds
      .connect(signer)
      .commitContribution(roundId, sealOf(hash, address), 100 * (i + 1), { value: deposit });
    committed.push(hash);
  }
  return committed;
}

/** Moves past the commit deadline of `roundId`: its reveal phase. */
export async function startReveal(s: Scenario, roundId: bigint): Promise<void> {
  await advanceTo((await s.rounds.round(roundId)).commitDeadline + 1n);
}

/** Starts the reveal phase and reveals `hashes[i]` for each signer. */
export async function revealAll(
  s: Scenario,
  roundId: bigint,
  signers: readonly Signer[],
  hashes: readonly string[],
): Promise<void> {
  await startReveal(s, roundId);
  for (const [i, signer] of signers.entries()) {
    await s.rounds.connect(signer).revealContribution(roundId, hashes[i], STORE_URI);
  }
}

/** Commits and reveals each signer's contribution to `roundId`; returns the ciphertext hashes. */
export async function contribute(s: Scenario, roundId: bigint, signers: readonly Signer[]): Promise<string[]> {
  const hashes = await commitAll(s, roundId, signers);
  await revealAll(s, roundId, signers, hashes);
  return hashes;
}

/** Moves past the reveal deadline of `roundId` and closes it. */
export async function closeRound(s: Scenario, roundId: bigint): Promise<void> {
  await advanceTo((await s.rounds.round(roundId)).revealDeadline + 1n);
  await s.rounds.closeRound(roundId);
}

/**
 * Publishes results for closed round `roundId` as the coprocessor: the statuses on-chain decide Unrevealed and
 * Duplicate, `excluded` gives the reason of other commitments left out (by index). Returns the publication and the
 * gas it used.
 */
export async function publish(
  s: Scenario,
  roundId: bigint,
  excluded: ReadonlyMap<number, ExclusionReason> = new Map(),
  outputs: { aggregate: string; scores: string } = { aggregate: ethers.id("aggregate"), scores: ethers.id("scores") },
) {
  const publication = await publicationOf(s.rounds, roundId, excluded);
  const tx = await s.rounds
    .connect(s.coprocessor)
    .publishResults(roundId, outputs.aggregate, outputs.scores, publication.inputsHash, publication.reasons);
  return { ...publication, gasUsed: (await tx.wait())!.gasUsed };
}

/** Closes `roundId` after its reveal deadline and publishes, excluding `excluded` signers with reason Policy. */
export async function closeAndPublish(s: Scenario, roundId: bigint, excluded: readonly Signer[] = []): Promise<void> {
  await closeRound(s, roundId);
  const reasons = new Map<number, ExclusionReason>();
  for (const e of excluded) {
    reasons.set(Number(await s.rounds.commitmentIndexOf(roundId, await e.getAddress())), ExclusionReason.Policy);
  }
  await publish(s, roundId, reasons);
}

/** Moves past the dispute deadline of `roundId` and finalizes it. */
export async function finalize(s: Scenario, roundId: bigint): Promise<void> {
  await advanceTo((await s.rounds.round(roundId)).disputeDeadline + 1n);
  await s.rounds.finalizeRound(roundId);
}

/** A finalized round where `signers` contributed and `excluded` (a subset) were excluded. */
export async function finalizedRound(
  s: Scenario,
  signers: readonly Signer[],
  excluded: readonly Signer[] = [],
): Promise<bigint> {
  const roundId = await openRound(s);
  await contribute(s, roundId, signers);
  await closeAndPublish(s, roundId, excluded);
  await finalize(s, roundId);
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

/** The custodian settles `shares[i]` for `who[i]` in one batch (the transaction, not awaited for its receipt). */
export async function settle(s: Scenario, roundId: bigint, who: readonly Signer[], shares: readonly bigint[]) {
  const encrypted = await encryptShares(await s.distributor.getAddress(), s.custodian.address, shares);
  const addresses = await Promise.all(who.map((w) => w.getAddress()));
  return s.distributor.connect(s.custodian).settle(roundId, addresses, encrypted.handles, encrypted.inputProofs);
}

/** Asserts that `decryption` fails with a message matching `refusal`. */
async function expectRefused(decryption: Promise<unknown>, refusal: RegExp, what: string): Promise<void> {
  let denial: unknown;
  try {
    await decryption;
  } catch (error) {
    denial = error;
  }
  expect(denial, `the ${what} should have been refused`).to.be.instanceOf(Error);
  expect((denial as Error).message).to.match(refusal);
}

/** Asserts that the fhEVM ACL refuses a user decryption (the user or the contract lacks access to the handle). */
export const expectDecryptionDenied = (decryption: Promise<unknown>): Promise<void> =>
  expectRefused(decryption, /is not authorized to user decrypt handle/, "user decryption");

/** Asserts that a public decryption is refused (the handle was never made publicly decryptable). */
export const expectPublicDecryptionDenied = (decryption: Promise<unknown>): Promise<void> =>
  expectRefused(decryption, /is not allowed for public decryption/, "public decryption");

/** A fresh payout address (never registered, never funded), with its key: user decryption signs with it. */
export const freshPayoutWallet = () => ethers.Wallet.createRandom().connect(ethers.provider);

/** `contributor` seals `payTo` as its anonymous payout address of `roundId` (an eaddress input bound to it). */
export async function sealPayout(s: Scenario, roundId: bigint, contributor: Signer, payTo: string) {
  const anonymous = await s.anonymousPayouts.getAddress();
  const input = await fhevm
    .createEncryptedInput(anonymous, await contributor.getAddress())
    .addAddress(payTo)
    .encrypt();
  return s.anonymousPayouts.connect(contributor).sealPayout(roundId, input.handles[0], input.inputProof);
}

/**
 * A finalized, funded (Σ shares), settled and (unless `complete` is false) completed round of the scenario's program
 * where `signers[i]` earns `shares[i]`; `sealed` maps a signer to the fresh address it seals in the commit phase.
 */
export async function settledSealedRound(
  s: Scenario,
  signers: readonly Signer[],
  shares: readonly bigint[],
  sealed: ReadonlyMap<Signer, string>,
  complete = true,
  programId = s.programId,
): Promise<bigint> {
  const roundId = await openRound(s, programId);
  const hashes = await commitAll(s, roundId, signers);
  for (const [signer, payTo] of sealed) await sealPayout(s, roundId, signer, payTo);
  await revealAll(s, roundId, signers, hashes);
  await closeAndPublish(s, roundId);
  await finalize(s, roundId);
  await fundPool(
    s,
    roundId,
    shares.reduce((a, b) => a + b, 0n),
  );
  await settle(s, roundId, signers, shares);
  if (complete) await s.distributor.connect(s.custodian).completeSettlement(roundId);
  return roundId;
}

/**
 * The block time a reverted call saw, for `withArgs`: at least `now` (read before the call) and at most a few seconds
 * later. Hardhat's next block time follows the wall clock once `evm_increaseTime` has run, so on a loaded machine the
 * call may see `now + 2` or more, and reading the latest block after the call races with it.
 */
export function blockTimeFrom(now: bigint): (seen: bigint) => boolean {
  return (seen) => seen >= now && seen <= now + 30n;
}
