import { FhevmType } from "@fhevm/hardhat-plugin";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import type { Signer } from "ethers";
import { ethers, fhevm } from "hardhat";
import {
  SettlementState,
  advanceTo,
  encryptAmount,
  encryptShares,
  impersonatedSigners,
} from "@ciphershare/scripts/lib/chain";
import {
  Phase,
  closeAndPublish,
  closeRound,
  commitAll,
  contribute,
  deployScenario,
  expectDecryptionDenied,
  expectPublicDecryptionDenied,
  finalize,
  finalizedRound,
  fundPool,
  openRound,
  settle as settleShares,
  type Scenario,
} from "../fixtures";

const HCU_PER_TX = 20_000_000;
const HCU_DEPTH_PER_TX = 5_000_000;
const GAS_PER_TX = 2n ** 24n;
/** Largest settlement batch measured by `npm run bench:chain` (`settleBatchSize`); the global HCU limit binds. */
const MAX_SETTLE_BATCH = 67;
const MAX_UINT64 = 2n ** 64n - 1n;

describe("RoyaltyDistributor", () => {
  let s: Scenario;
  let alice: HardhatEthersSigner;
  let bob: HardhatEthersSigner;
  let carol: HardhatEthersSigner;
  let distributorAddress: string;
  let tokenAddress: string;

  beforeEach(async () => {
    s = await deployScenario();
    [alice, bob, carol] = s.contributors;
    distributorAddress = await s.distributor.getAddress();
    tokenAddress = await s.token.getAddress();
  });

  const settle = (roundId: bigint, who: readonly Signer[], shares: readonly bigint[]) =>
    settleShares(s, roundId, who, shares);

  const decryptAs = (handle: string, contract: string, user: HardhatEthersSigner) =>
    fhevm.userDecryptEuint(FhevmType.euint64, handle, contract, user);

  const owedOf = async (roundId: bigint, contributor: HardhatEthersSigner) =>
    decryptAs(await s.distributor.owedOf(roundId, contributor.address), distributorAddress, contributor);

  const balanceOf = async (who: HardhatEthersSigner) =>
    decryptAs(await s.token.confidentialBalanceOf(who.address), tokenAddress, who);

  const publicValue = async (handle: string) => fhevm.publicDecryptEuint(FhevmType.euint64, handle);

  describe("fundPool", () => {
    it("adds the wrapped amount to the pool: public, and readable by the network and the custodian", async () => {
      const roundId = await openRound(s);
      await fundPool(s, roundId, 600n);
      await fundPool(s, roundId, 400n, s.outsider);
      const pool = await s.distributor.poolOf(roundId);
      expect(await publicValue(pool)).to.equal(1000n);
      expect(await decryptAs(pool, distributorAddress, s.network)).to.equal(1000n);
      expect(await decryptAs(pool, distributorAddress, s.custodian)).to.equal(1000n);
      await expectDecryptionDenied(decryptAs(pool, distributorAddress, alice));
      const unallocated = await s.distributor.unallocatedOf(roundId);
      expect(unallocated).to.equal(
        pool,
        "before any batch, unallocated is the pool's own handle (the same sums): public, and equal to the pool",
      );
      expect(await decryptAs(await s.distributor.unclaimedOf(roundId), distributorAddress, s.custodian)).to.equal(
        1000n,
      );
    });

    it("emits the funded amount, readable by the funder", async () => {
      const roundId = await openRound(s);
      await fundPool(s, roundId, 5n);
      const [event] = await s.distributor.queryFilter(s.distributor.filters.PoolFunded(roundId));
      expect(event.args.funder).to.equal(s.network.address);
      expect(await decryptAs(event.args.amount, distributorAddress, s.network)).to.equal(5n);
    });

    it("reverts for an unknown round", async () => {
      const input = await encryptAmount(distributorAddress, s.network.address, 1n);
      await expect(s.distributor.fundPool(3n, input.handle, input.inputProof))
        .to.be.revertedWithCustomError(s.rounds, "RoundNotFound")
        .withArgs(3n);
    });

    it("reverts when the distributor is not the funder's operator", async () => {
      const roundId = await openRound(s);
      const input = await encryptAmount(distributorAddress, s.network.address, 1n);
      await expect(s.distributor.connect(s.network).fundPool(roundId, input.handle, input.inputProof))
        .to.be.revertedWithCustomError(s.token, "ERC7984UnauthorizedSpender")
        .withArgs(s.network.address, distributorAddress);
    });

    it("refuses funding for a cancelled round and after the settlement completed", async () => {
      const cancelled = await openRound(s);
      await commitAll(s, cancelled, [alice]);
      await closeRound(s, cancelled);
      await expect(fundPool(s, cancelled, 1n))
        .to.be.revertedWithCustomError(s.distributor, "PoolClosed")
        .withArgs(cancelled);
      const roundId = await finalizedRound(s, [alice]);
      await fundPool(s, roundId, 10n);
      await settle(roundId, [alice], [10n]);
      await s.distributor.connect(s.custodian).completeSettlement(roundId);
      await expect(fundPool(s, roundId, 1n))
        .to.be.revertedWithCustomError(s.distributor, "PoolClosed")
        .withArgs(roundId);
    });
  });

  describe("settle", () => {
    let roundId: bigint;

    beforeEach(async () => {
      roundId = await finalizedRound(s, [alice, bob, carol]);
      await fundPool(s, roundId, 1000n);
    });

    it("credits each contributor an owed amount only it can decrypt", async () => {
      const tx = settle(roundId, [alice, bob, carol], [500n, 300n, 200n]);
      await expect(tx).to.emit(s.distributor, "RoyaltyCredited");
      await expect(tx).to.emit(s.distributor, "SettlementBatchRecorded");
      expect(await owedOf(roundId, alice)).to.equal(500n);
      expect(await owedOf(roundId, bob)).to.equal(300n);
      expect(await owedOf(roundId, carol)).to.equal(200n);
      const aliceOwed = await s.distributor.owedOf(roundId, alice.address);
      for (const other of [bob, s.custodian, s.network, s.outsider]) {
        await expectDecryptionDenied(decryptAs(aliceOwed, distributorAddress, other));
      }
      await expectPublicDecryptionDenied(publicValue(aliceOwed));
      expect(await s.distributor.isSettled(roundId, alice.address)).to.equal(true);
      expect(await s.distributor.settlementBatchCount(roundId)).to.equal(1n);
      expect(await s.distributor.settledCount(roundId)).to.equal(3n);
    });

    it("keeps the unallocated pool private after a batch (the custodian alone reads it), publishes the verdict", async () => {
      await settle(roundId, [alice], [500n]);
      const unallocated = await s.distributor.unallocatedOf(roundId);
      await expectPublicDecryptionDenied(publicValue(unallocated));
      expect(await decryptAs(unallocated, distributorAddress, s.custodian)).to.equal(500n);
      for (const other of [s.network, alice, s.outsider]) {
        await expectDecryptionDenied(decryptAs(unallocated, distributorAddress, other));
      }
      const [batch] = await s.distributor.queryFilter(s.distributor.filters.SettlementBatchRecorded(roundId));
      expect(batch.args.size).to.equal(1n);
      expect(await fhevm.publicDecryptEbool(batch.args.accepted)).to.equal(true);
      expect(await fhevm.userDecryptEbool(batch.args.accepted, distributorAddress, s.custodian)).to.equal(true);
    });

    it("settles in batches without double credit", async () => {
      await settle(roundId, [alice], [500n]);
      await settle(roundId, [bob, carol], [300n, 200n]);
      expect(await s.distributor.settlementBatchCount(roundId)).to.equal(2n);
      expect(await owedOf(roundId, carol)).to.equal(200n);
      await expect(settle(roundId, [alice], [1n]))
        .to.be.revertedWithCustomError(s.distributor, "AlreadySettled")
        .withArgs(roundId, alice.address);
      expect(await owedOf(roundId, alice)).to.equal(500n);
    });

    it("reverts on a contributor listed twice in one batch", async () => {
      await expect(settle(roundId, [alice, bob, alice], [1n, 1n, 1n]))
        .to.be.revertedWithCustomError(s.distributor, "AlreadySettled")
        .withArgs(roundId, alice.address);
    });

    it("credits nothing to a batch that over-allocates the pool, and keeps the pool for later batches", async () => {
      await settle(roundId, [alice], [600n]);
      await settle(roundId, [bob, carol], [300n, 200n]);
      expect(await owedOf(roundId, bob)).to.equal(0n);
      expect(await owedOf(roundId, carol)).to.equal(0n);
      const [, rejected] = await s.distributor.queryFilter(s.distributor.filters.SettlementBatchRecorded(roundId));
      expect(await fhevm.publicDecryptEbool(rejected.args.accepted)).to.equal(false);
      expect(await decryptAs(await s.distributor.unallocatedOf(roundId), distributorAddress, s.custodian)).to.equal(
        400n,
      );
      expect(await owedOf(roundId, alice)).to.equal(600n);
    });

    it("sums exactly: shares that would wrap uint64 to the pool ([2^64 - 1, pool + 1]) are rejected", async () => {
      await settle(roundId, [alice, bob], [MAX_UINT64, 1001n]);
      expect(await owedOf(roundId, alice)).to.equal(0n);
      expect(await owedOf(roundId, bob)).to.equal(0n);
      const [batch] = await s.distributor.queryFilter(s.distributor.filters.SettlementBatchRecorded(roundId));
      expect(await fhevm.publicDecryptEbool(batch.args.accepted)).to.equal(false);
      expect(await decryptAs(await s.distributor.unallocatedOf(roundId), distributorAddress, s.custodian)).to.equal(
        1000n,
      );
    });

    describe("releaseRejectedBatch", () => {
      /** Settles alice (600 of 1000), then bob and carol for 500: the second batch (index 1) is rejected. */
      const rejectSecondBatch = async () => {
        await settle(roundId, [alice], [600n]);
        await settle(roundId, [bob, carol], [300n, 200n]);
        const [accepted] = await s.distributor.settlementBatch(roundId, 1n);
        return fhevm.publicDecrypt([accepted]);
      };

      it("lets the contributors of a rejected batch be settled again", async () => {
        const { decryptionProof } = await rejectSecondBatch();
        await s.distributor.connect(bob).claim(roundId);
        const release = s.distributor
          .connect(s.outsider)
          .releaseRejectedBatch(roundId, 1n, [bob.address, carol.address], decryptionProof);
        await expect(release).to.emit(s.distributor, "SettlementBatchReleased").withArgs(roundId, 1n);
        const [, contributorsHash, released] = await s.distributor.settlementBatch(roundId, 1n);
        expect(contributorsHash).to.equal(
          ethers.solidityPackedKeccak256(["address[]"], [[bob.address, carol.address]]),
        );
        expect(released).to.equal(true);
        expect(await s.distributor.isSettled(roundId, bob.address)).to.equal(false);
        expect(await s.distributor.isClaimed(roundId, bob.address)).to.equal(false);
        expect(await s.distributor.settledCount(roundId)).to.equal(1n);
        await settle(roundId, [bob, carol], [300n, 100n]);
        expect(await owedOf(roundId, bob)).to.equal(300n);
        expect(await owedOf(roundId, carol)).to.equal(100n);
        await s.distributor.connect(bob).claim(roundId);
        expect(await balanceOf(bob)).to.equal(300n);
        await expect(s.distributor.releaseRejectedBatch(roundId, 1n, [bob.address, carol.address], decryptionProof))
          .to.be.revertedWithCustomError(s.distributor, "SettlementBatchAlreadyReleased")
          .withArgs(roundId, 1n);
      });

      it("reverts for an accepted batch: its verdict does not decrypt to false", async () => {
        await rejectSecondBatch();
        const [accepted] = await s.distributor.settlementBatch(roundId, 0n);
        const { decryptionProof } = await fhevm.publicDecrypt([accepted]);
        await expect(
          s.distributor.releaseRejectedBatch(roundId, 0n, [alice.address], decryptionProof),
        ).to.be.revertedWithCustomError(...fhevm.revertedWithCustomErrorArgs("KMSVerifier", "KMSInvalidSigner"));
      });

      it("reverts for an unknown batch, other contributors, or a closed settlement", async () => {
        const { decryptionProof } = await rejectSecondBatch();
        await expect(s.distributor.releaseRejectedBatch(roundId, 2n, [bob.address], decryptionProof))
          .to.be.revertedWithCustomError(s.distributor, "UnknownSettlementBatch")
          .withArgs(roundId, 2n);
        await expect(s.distributor.releaseRejectedBatch(roundId, 1n, [carol.address, bob.address], decryptionProof))
          .to.be.revertedWithCustomError(s.distributor, "SettlementBatchContributorsMismatch")
          .withArgs(roundId, 1n);
        await s.distributor.connect(s.custodian).completeSettlement(roundId);
        await expect(s.distributor.releaseRejectedBatch(roundId, 1n, [bob.address, carol.address], decryptionProof))
          .to.be.revertedWithCustomError(s.distributor, "SettlementClosed")
          .withArgs(roundId, SettlementState.Completed);
      });
    });

    it("reverts unless the round is finalized", async () => {
      const open = await openRound(s);
      await expect(settle(open, [alice], [1n]))
        .to.be.revertedWithCustomError(s.distributor, "RoundNotFinalized")
        .withArgs(open, Phase.Open);
    });

    it("reverts when the caller is not the program's custodian", async () => {
      const encrypted = await encryptShares(distributorAddress, s.network.address, [1n]);
      await expect(
        s.distributor.connect(s.network).settle(roundId, [alice.address], encrypted.handles, encrypted.inputProofs),
      )
        .to.be.revertedWithCustomError(s.distributor, "NotProgramCustodian")
        .withArgs(s.programId, s.network.address);
    });

    it("reverts on an empty batch, mismatched lengths or a wrong number of input proofs", async () => {
      const encrypted = await encryptShares(distributorAddress, s.custodian.address, [1n, 2n]);
      const asCustodian = s.distributor.connect(s.custodian);
      await expect(asCustodian.settle(roundId, [], [], []))
        .to.be.revertedWithCustomError(s.distributor, "EmptySettlement")
        .withArgs(roundId);
      await expect(asCustodian.settle(roundId, [alice.address], encrypted.handles, encrypted.inputProofs))
        .to.be.revertedWithCustomError(s.distributor, "SettlementLengthMismatch")
        .withArgs(1n, 2n);
      const twoProofs = [...encrypted.inputProofs, ...encrypted.inputProofs];
      await expect(asCustodian.settle(roundId, [alice.address, bob.address], encrypted.handles, twoProofs))
        .to.be.revertedWithCustomError(s.distributor, "InputProofCountMismatch")
        .withArgs(1n, 2n);
    });

    it("reverts for excluded contributors and non-committers", async () => {
      const other = await finalizedRound(s, [alice, bob], [bob]);
      await fundPool(s, other, 10n);
      await expect(settle(other, [alice, bob], [1n, 1n]))
        .to.be.revertedWithCustomError(s.distributor, "ContributorNotIncluded")
        .withArgs(other, bob.address);
      await expect(settle(other, [carol], [1n]))
        .to.be.revertedWithCustomError(s.distributor, "ContributorNotIncluded")
        .withArgs(other, carol.address);
    });

    it("reverts when the pool was never funded", async () => {
      const unfunded = await finalizedRound(s, [alice]);
      await expect(settle(unfunded, [alice], [1n]))
        .to.be.revertedWithCustomError(s.distributor, "PoolNotFunded")
        .withArgs(unfunded);
    });
  });

  describe("completeSettlement", () => {
    let roundId: bigint;

    beforeEach(async () => {
      roundId = await finalizedRound(s, [alice, bob, carol]);
      await fundPool(s, roundId, 1000n);
    });

    it("needs every included contributor settled, then publishes the unallocated remainder: 0 proves Σ shares = pool", async () => {
      await settle(roundId, [alice, bob], [500n, 300n]);
      await expect(s.distributor.connect(s.custodian).completeSettlement(roundId))
        .to.be.revertedWithCustomError(s.distributor, "SettlementIncomplete")
        .withArgs(roundId, 2n, 3n);
      await settle(roundId, [carol], [200n]);
      const unallocated = await s.distributor.unallocatedOf(roundId);
      await expectPublicDecryptionDenied(publicValue(unallocated));
      await expect(s.distributor.connect(s.custodian).completeSettlement(roundId))
        .to.emit(s.distributor, "SettlementCompleted")
        .withArgs(roundId, unallocated);
      expect(await publicValue(unallocated)).to.equal(0n);
      expect(await decryptAs(unallocated, distributorAddress, s.network)).to.equal(0n);
      expect(await s.distributor.settlementState(roundId)).to.equal(BigInt(SettlementState.Completed));
      await expect(settle(roundId, [alice], [1n]))
        .to.be.revertedWithCustomError(s.distributor, "SettlementClosed")
        .withArgs(roundId, SettlementState.Completed);
      await expect(s.distributor.connect(s.custodian).completeSettlement(roundId))
        .to.be.revertedWithCustomError(s.distributor, "SettlementClosed")
        .withArgs(roundId, SettlementState.Completed);
    });

    it("reverts for anyone but the custodian, and for a round not finalized", async () => {
      await expect(s.distributor.connect(s.network).completeSettlement(roundId))
        .to.be.revertedWithCustomError(s.distributor, "NotProgramCustodian")
        .withArgs(s.programId, s.network.address);
      const open = await openRound(s);
      await expect(s.distributor.connect(s.custodian).completeSettlement(open))
        .to.be.revertedWithCustomError(s.distributor, "RoundNotFinalized")
        .withArgs(open, Phase.Open);
    });
  });

  describe("recoverPool", () => {
    it("returns the remainder of a completed settlement to the network; owed amounts stay claimable", async () => {
      const roundId = await finalizedRound(s, [alice, bob]);
      await fundPool(s, roundId, 1000n);
      await settle(roundId, [alice, bob], [600n, 0n]);
      await expect(s.distributor.connect(s.network).recoverPool(roundId))
        .to.be.revertedWithCustomError(s.distributor, "PoolNotRecoverable")
        .withArgs(roundId, Phase.Finalized, SettlementState.Open);
      await s.distributor.connect(s.custodian).completeSettlement(roundId);
      await expect(s.distributor.connect(s.network).recoverPool(roundId)).to.emit(s.distributor, "PoolRecovered");
      const [event] = await s.distributor.queryFilter(s.distributor.filters.PoolRecovered(roundId));
      expect(event.args.network).to.equal(s.network.address);
      expect(await balanceOf(s.network)).to.equal(400n);
      expect(await s.distributor.settlementState(roundId)).to.equal(BigInt(SettlementState.Recovered));
      await s.distributor.connect(alice).claim(roundId);
      expect(await balanceOf(alice)).to.equal(600n);
      await expect(s.distributor.connect(s.network).recoverPool(roundId))
        .to.be.revertedWithCustomError(s.distributor, "PoolNotRecoverable")
        .withArgs(roundId, Phase.Finalized, SettlementState.Recovered);
    });

    it("returns the remainder of a round whose custodian missed the settlement deadline, and closes settlement", async () => {
      const roundId = await finalizedRound(s, [alice, bob]);
      await fundPool(s, roundId, 1000n);
      await settle(roundId, [alice], [250n]);
      await advanceTo((await s.rounds.round(roundId)).settlementDeadline + 1n);
      await s.distributor.connect(s.network).recoverPool(roundId);
      expect(await balanceOf(s.network)).to.equal(750n);
      const [event] = await s.distributor.queryFilter(s.distributor.filters.PoolRecovered(roundId));
      expect(await decryptAs(event.args.amount, tokenAddress, s.network)).to.equal(750n);
      await expect(settle(roundId, [bob], [1n]))
        .to.be.revertedWithCustomError(s.distributor, "SettlementClosed")
        .withArgs(roundId, SettlementState.Recovered);
      await s.distributor.connect(alice).claim(roundId);
      expect(await balanceOf(alice)).to.equal(250n);
    });

    it("reverts for anyone but the network, and for a pool never funded", async () => {
      const roundId = await finalizedRound(s, [alice]);
      await expect(s.distributor.connect(s.network).recoverPool(roundId))
        .to.be.revertedWithCustomError(s.distributor, "PoolNotFunded")
        .withArgs(roundId);
      await fundPool(s, roundId, 10n);
      for (const other of [s.custodian, s.coprocessor, alice]) {
        await expect(s.distributor.connect(other).recoverPool(roundId))
          .to.be.revertedWithCustomError(s.distributor, "NotProgramNetwork")
          .withArgs(s.programId, other.address);
      }
    });
  });

  describe("claim", () => {
    let roundId: bigint;

    beforeEach(async () => {
      roundId = await finalizedRound(s, [alice, bob, carol]);
      await fundPool(s, roundId, 1000n);
    });

    it("transfers the owed amount to the contributor, whose balance only it can decrypt", async () => {
      await settle(roundId, [alice, bob, carol], [500n, 300n, 200n]);
      await expect(s.distributor.connect(alice).claim(roundId)).to.emit(s.distributor, "RoyaltyClaimed");
      const balance = await s.token.confidentialBalanceOf(alice.address);
      expect(await decryptAs(balance, tokenAddress, alice)).to.equal(500n);
      for (const other of [bob, s.custodian, s.outsider]) {
        await expectDecryptionDenied(decryptAs(balance, tokenAddress, other));
      }
      const [claimed] = await s.distributor.queryFilter(s.distributor.filters.RoyaltyClaimed(roundId, alice.address));
      expect(await decryptAs(claimed.args.paid, tokenAddress, alice)).to.equal(500n);
      await expectDecryptionDenied(decryptAs(claimed.args.paid, tokenAddress, bob));
      expect(await s.distributor.isClaimed(roundId, alice.address)).to.equal(true);
      expect(await s.distributor.isClaimed(roundId, bob.address)).to.equal(false);
      const unclaimed = await s.distributor.unclaimedOf(roundId);
      for (const anyone of [alice, s.custodian, s.network]) {
        await expectDecryptionDenied(decryptAs(unclaimed, distributorAddress, anyone));
      }
    });

    it("reverts on a second claim and when nothing is owed", async () => {
      await settle(roundId, [alice], [500n]);
      await s.distributor.connect(alice).claim(roundId);
      await expect(s.distributor.connect(alice).claim(roundId))
        .to.be.revertedWithCustomError(s.distributor, "AlreadyClaimed")
        .withArgs(roundId, alice.address);
      await expect(s.distributor.connect(bob).claim(roundId))
        .to.be.revertedWithCustomError(s.distributor, "NothingOwed")
        .withArgs(roundId, bob.address);
    });
  });

  it(`settles ${MAX_SETTLE_BATCH} contributors in one transaction within the fhEVM HCU and gas limits`, async () => {
    const roundId = await openRound(s);
    const crowd = await impersonatedSigners(MAX_SETTLE_BATCH);
    await contribute(s, roundId, crowd);
    await closeAndPublish(s, roundId);
    await finalize(s, roundId);
    await fundPool(s, roundId, 1000n * BigInt(MAX_SETTLE_BATCH));
    const receipt = await (
      await settle(
        roundId,
        crowd,
        crowd.map(() => 1000n),
      )
    ).wait();
    const hcu = fhevm.computeTransactionHCU(receipt!);
    expect(hcu.globalHCU).to.be.below(HCU_PER_TX);
    expect(hcu.maxHCUDepth).to.be.below(HCU_DEPTH_PER_TX);
    expect(receipt!.gasUsed).to.be.below(GAS_PER_TX);
    await s.distributor.connect(s.custodian).completeSettlement(roundId);
    expect(await publicValue(await s.distributor.unallocatedOf(roundId))).to.equal(0n);
    await expect(s.distributor.connect(crowd[MAX_SETTLE_BATCH - 1]).claim(roundId)).to.emit(
      s.distributor,
      "RoyaltyClaimed",
    );
  });

  it("grants every handle on purpose: who may decrypt the pool, the unallocated part, owed amounts and verdicts", async () => {
    const roundId = await finalizedRound(s, [alice, bob]);
    await fundPool(s, roundId, 1000n);
    await settle(roundId, [alice, bob], [700n, 0n]);
    const everyone = [s.network, s.custodian, s.coprocessor, s.auditor, s.outsider, alice, bob];
    /** Who may user-decrypt `handle` (of `contract`); everyone else is refused. */
    const expectReaders = async (handle: string, contract: string, readers: HardhatEthersSigner[], value: bigint) => {
      for (const account of everyone) {
        if (readers.includes(account)) expect(await decryptAs(handle, contract, account)).to.equal(value);
        else await expectDecryptionDenied(decryptAs(handle, contract, account));
      }
    };
    const pool = await s.distributor.poolOf(roundId);
    await expectReaders(pool, distributorAddress, [s.network, s.custodian], 1000n);
    expect(await publicValue(pool)).to.equal(1000n);

    const unallocated = await s.distributor.unallocatedOf(roundId);
    await expectReaders(unallocated, distributorAddress, [s.custodian], 300n);
    await expectPublicDecryptionDenied(publicValue(unallocated));

    await expectReaders(await s.distributor.owedOf(roundId, alice.address), distributorAddress, [alice], 700n);
    await expectReaders(await s.distributor.owedOf(roundId, bob.address), distributorAddress, [bob], 0n);
    await expectPublicDecryptionDenied(publicValue(await s.distributor.owedOf(roundId, alice.address)));

    // Until the first claim the unclaimed part is the pool's own handle (the same sums); after it, nobody reads it.
    expect(await s.distributor.unclaimedOf(roundId)).to.equal(pool);
    await s.distributor.connect(alice).claim(roundId);
    await expectReaders(await s.distributor.unclaimedOf(roundId), distributorAddress, [], 300n);

    const [accepted] = await s.distributor.settlementBatch(roundId, 0n);
    expect(await fhevm.userDecryptEbool(accepted, distributorAddress, s.custodian)).to.equal(true);
    await expectDecryptionDenied(fhevm.userDecryptEbool(accepted, distributorAddress, s.network));
    expect(await fhevm.publicDecryptEbool(accepted)).to.equal(true);

    await s.distributor.connect(s.custodian).completeSettlement(roundId);
    await expectReaders(unallocated, distributorAddress, [s.network, s.custodian], 300n);
    expect(await publicValue(unallocated)).to.equal(300n);

    await s.distributor.connect(s.network).recoverPool(roundId);
    const [recovered] = await s.distributor.queryFilter(s.distributor.filters.PoolRecovered(roundId));
    await expectReaders(recovered.args.amount, tokenAddress, [s.network], 300n);
  });
});
