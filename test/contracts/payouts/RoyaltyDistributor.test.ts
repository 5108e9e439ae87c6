import { FhevmType } from "@fhevm/hardhat-plugin";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import type { Signer } from "ethers";
import { ethers, fhevm } from "hardhat";
import { encryptAmount, encryptShares, impersonatedSigners } from "@ciphershare/scripts/lib/chain";
import {
  Phase,
  deployScenario,
  expectDecryptionDenied,
  finalizeCommitted,
  finalizedRound,
  fundPool,
  openRound,
  type Scenario,
} from "../fixtures";

const HCU_PER_TX = 20_000_000;
const HCU_DEPTH_PER_TX = 5_000_000;
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

  /** The custodian settles `shares[i]` for `who[i]` in one batch. */
  const settle = async (roundId: bigint, who: readonly Signer[], shares: readonly bigint[]) => {
    const encrypted = await encryptShares(distributorAddress, s.custodian.address, shares);
    const addresses = await Promise.all(who.map((w) => w.getAddress()));
    return s.distributor.connect(s.custodian).settle(roundId, addresses, encrypted.handles, encrypted.inputProofs);
  };

  const decryptAs = (handle: string, contract: string, user: HardhatEthersSigner) =>
    fhevm.userDecryptEuint(FhevmType.euint64, handle, contract, user);

  const owedOf = async (roundId: bigint, contributor: HardhatEthersSigner) =>
    decryptAs(await s.distributor.owedOf(roundId, contributor.address), distributorAddress, contributor);

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
      expect(await publicValue(unallocated)).to.equal(1000n);
      expect(await decryptAs(unallocated, distributorAddress, s.custodian)).to.equal(1000n);
      expect(await decryptAs(await s.distributor.unclaimedOf(roundId), distributorAddress, s.custodian)).to.equal(
        1000n,
        "pool, unallocated and unclaimed start as the same handle (the same sums), so they share its ACL",
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
      expect(await s.distributor.isSettled(roundId, alice.address)).to.equal(true);
      expect(await s.distributor.settlementBatchCount(roundId)).to.equal(1n);
    });

    it("makes the unallocated pool public: 0 proves the shares sum to the pool", async () => {
      await settle(roundId, [alice, bob, carol], [500n, 300n, 200n]);
      expect(await publicValue(await s.distributor.unallocatedOf(roundId))).to.equal(0n);
      const [batch] = await s.distributor.queryFilter(s.distributor.filters.SettlementBatchRecorded(roundId));
      expect(batch.args.size).to.equal(3n);
      expect(await fhevm.publicDecryptEbool(batch.args.accepted)).to.equal(true);
      expect(await fhevm.userDecryptEbool(batch.args.accepted, distributorAddress, s.custodian)).to.equal(true);
    });

    it("settles in batches without double credit", async () => {
      await settle(roundId, [alice], [500n]);
      await settle(roundId, [bob, carol], [300n, 200n]);
      expect(await s.distributor.settlementBatchCount(roundId)).to.equal(2n);
      expect(await owedOf(roundId, carol)).to.equal(200n);
      expect(await publicValue(await s.distributor.unallocatedOf(roundId))).to.equal(0n);
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
      expect(await publicValue(await s.distributor.unallocatedOf(roundId))).to.equal(400n);
      expect(await owedOf(roundId, alice)).to.equal(600n);
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
        await settle(roundId, [bob, carol], [300n, 100n]);
        expect(await owedOf(roundId, bob)).to.equal(300n);
        expect(await owedOf(roundId, carol)).to.equal(100n);
        await s.distributor.connect(bob).claim(roundId);
        expect(await decryptAs(await s.token.confidentialBalanceOf(bob.address), tokenAddress, bob)).to.equal(300n);
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

      it("reverts for an unknown batch or other contributors", async () => {
        const { decryptionProof } = await rejectSecondBatch();
        await expect(s.distributor.releaseRejectedBatch(roundId, 2n, [bob.address], decryptionProof))
          .to.be.revertedWithCustomError(s.distributor, "UnknownSettlementBatch")
          .withArgs(roundId, 2n);
        await expect(s.distributor.releaseRejectedBatch(roundId, 1n, [carol.address, bob.address], decryptionProof))
          .to.be.revertedWithCustomError(s.distributor, "SettlementBatchContributorsMismatch")
          .withArgs(roundId, 1n);
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

    it("pays nothing beyond the round's pool, even when shares wrap around uint64", async () => {
      // 2^64 - 1 + 2 wraps to 1 <= pool, so the settle-time check accepts the batch; the claim-time check does not.
      await settle(roundId, [alice, bob], [MAX_UINT64, 2n]);
      expect(await owedOf(roundId, alice)).to.equal(MAX_UINT64);
      await s.distributor.connect(alice).claim(roundId);
      expect(await decryptAs(await s.token.confidentialBalanceOf(alice.address), tokenAddress, alice)).to.equal(0n);
      await s.distributor.connect(bob).claim(roundId);
      expect(await decryptAs(await s.token.confidentialBalanceOf(bob.address), tokenAddress, bob)).to.equal(2n);
    });
  });

  it("settles 100 contributors in one transaction within the fhEVM HCU limits", async () => {
    const roundId = await openRound(s);
    const crowd = await impersonatedSigners(100);
    for (const [i, member] of crowd.entries()) {
      await s.rounds.connect(member).register("");
      await s.rounds.connect(member).commitContribution(roundId, ethers.id(`update-${i}`), 1, "");
    }
    await finalizeCommitted(s, roundId);
    await fundPool(s, roundId, 100_000n);
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
    expect(await publicValue(await s.distributor.unallocatedOf(roundId))).to.equal(0n);
    await expect(s.distributor.connect(crowd[99]).claim(roundId)).to.emit(s.distributor, "RoyaltyClaimed");
  });
});
