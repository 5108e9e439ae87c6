import { FhevmType } from "@fhevm/hardhat-plugin";
import { expect } from "chai";
import { ethers, fhevm } from "hardhat";
import { advanceTo } from "@ciphershare/scripts/lib/chain";
import { fundPool, openRound, Phase } from "../fixtures";
import {
  RELEASE,
  SHARE_HASHES,
  agreementProof,
  confirm,
  createCommitteeProgram,
  deployCommitteeScenario,
  encryptForCommittee,
  finalizedCommitteeRound,
  propose,
  releaseBy,
  type CommitteeScenario,
} from "./fixtures";

describe("CustodianCommittee", () => {
  describe("custody", () => {
    it("records the members, the threshold and each member's share commitment; the program is inactive until all accept", async () => {
      const c = await deployCommitteeScenario({ accept: false });
      const [m1, m2, m3] = c.members;
      const committee = await c.committee.committeeOf(c.committeeProgram);
      expect([committee.memberCount, committee.threshold, committee.acceptedCount, committee.active]).to.deep.equal([
        3n,
        2n,
        0n,
        false,
      ]);
      expect(await c.committee.membersOf(c.committeeProgram)).to.deep.equal([m1.address, m2.address, m3.address]);
      expect(await c.committee.shareCommitmentsOf(c.committeeProgram)).to.deep.equal(c.shareCommitments);
      expect(await c.committee.memberNumberOf(c.committeeProgram, m3.address)).to.equal(3n);
      expect(await c.committee.memberNumberOf(c.committeeProgram, c.stranger.address)).to.equal(0n);

      await expect(c.committee.connect(m1).acceptProgramShare(c.committeeProgram, c.shareCommitments[0]))
        .to.emit(c.committee, "ProgramShareAccepted")
        .withArgs(c.committeeProgram, m1.address, 1, c.shareCommitments[0]);
      await c.committee.connect(m2).acceptProgramShare(c.committeeProgram, c.shareCommitments[1]);
      expect(await c.rounds.isProgramActive(c.committeeProgram)).to.equal(false);
      await expect(c.committee.connect(m3).acceptProgramShare(c.committeeProgram, c.shareCommitments[2]))
        .to.emit(c.committee, "CommitteeActivated")
        .withArgs(c.committeeProgram)
        .and.to.emit(c.rounds, "ProgramAccepted")
        .withArgs(c.committeeProgram, c.committeeAddress);
      expect(await c.rounds.isProgramActive(c.committeeProgram)).to.equal(true);
      expect((await c.committee.committeeOf(c.committeeProgram)).active).to.equal(true);
    });

    it("a threshold of 0 means a majority: 2 of 3", async () => {
      const c = await deployCommitteeScenario({ threshold: 0 });
      expect((await c.committee.committeeOf(c.committeeProgram)).threshold).to.equal(2n);
    });

    it("refuses impossible committees with the offending values", async () => {
      const c = await deployCommitteeScenario({ accept: false });
      const { committeeAddress } = c;
      const programId = await createCommitteeProgram(c, committeeAddress);
      const [m1, m2] = c.members;
      const commitments = [ethers.id("a"), ethers.id("b")];
      const register = (members: string[], threshold: number, shares = commitments) =>
        c.committee.connect(c.network).registerCommittee(programId, members, threshold, shares);
      await expect(register([], 1, []))
        .to.be.revertedWithCustomError(c.committee, "CommitteeSizeOutOfRange")
        .withArgs(0, 31);
      await expect(register([m1.address, m2.address], 3))
        .to.be.revertedWithCustomError(c.committee, "ThresholdOutOfRange")
        .withArgs(3, 2);
      await expect(register([m1.address, m1.address], 2))
        .to.be.revertedWithCustomError(c.committee, "InvalidMember")
        .withArgs(1, m1.address);
      await expect(register([m1.address, ethers.ZeroAddress], 2))
        .to.be.revertedWithCustomError(c.committee, "InvalidMember")
        .withArgs(1, ethers.ZeroAddress);
      await expect(register([m1.address, m2.address], 2, [commitments[0]]))
        .to.be.revertedWithCustomError(c.committee, "ShareCommitmentCountMismatch")
        .withArgs(2, 1);
      await expect(register([m1.address, m2.address], 2, [commitments[0], ethers.ZeroHash]))
        .to.be.revertedWithCustomError(c.committee, "ZeroShareCommitment")
        .withArgs(1);
    });
  });

  describe("release", () => {
    let c: CommitteeScenario;
    let roundId: bigint;

    beforeEach(async () => {
      c = await deployCommitteeScenario();
      roundId = await finalizedCommitteeRound(c);
    });

    it("the first t members to join form the decrypting set; its shares and its agreed record anchor the release", async () => {
      const [m1, m2] = c.members;
      await expect(c.committee.connect(m2).joinRelease(roundId))
        .to.emit(c.committee, "ReleaseJoined")
        .withArgs(roundId, m2.address, 2);
      await expect(c.committee.connect(m1).joinRelease(roundId))
        .to.emit(c.committee, "DecryptingSetFormed")
        .withArgs(roundId, [1, 2]);
      expect(await c.committee.decryptingSetOf(roundId)).to.deep.equal([1n, 2n]);
      await expect(c.committee.connect(m1).submitDecryptionShares(roundId, SHARE_HASHES(1)))
        .to.emit(c.committee, "DecryptionSharesSubmitted")
        .withArgs(roundId, m1.address, 1, SHARE_HASHES(1));
      await c.committee.connect(m2).submitDecryptionShares(roundId, SHARE_HASHES(2));
      expect(await c.committee.decryptionSharesOf(roundId, 2)).to.deep.equal(SHARE_HASHES(2));
      await c.committee.connect(m1).approveRelease(roundId, RELEASE);
      expect((await c.rounds.round(roundId)).releaseHash).to.equal(ethers.ZeroHash, "one approval of two");
      const round = await c.rounds.round(roundId);
      await expect(c.committee.connect(m2).approveRelease(roundId, RELEASE))
        .to.emit(c.committee, "ReleaseAgreed")
        .withArgs(roundId, RELEASE, 0b110)
        .and.to.emit(c.rounds, "ReleaseAnchored")
        .withArgs(roundId, round.publication, RELEASE);
      expect((await c.rounds.round(roundId)).releaseHash).to.equal(RELEASE);
      const release = await c.committee.releaseOf(roundId);
      expect([release.joinedCount, release.submittedCount, release.approvedCount]).to.deep.equal([2n, 2n, 2n]);
    });

    it("one member down: the other two release the round", async () => {
      const [, m2, m3] = c.members;
      await releaseBy(c, roundId, [m3, m2]);
      expect(await c.committee.decryptingSetOf(roundId)).to.deep.equal([2n, 3n]);
      expect((await c.rounds.round(roundId)).releaseHash).to.equal(RELEASE);
    });

    it("a silent member of the set: after the share deadline anyone drops it, the others form a new set and release", async () => {
      const [m1, m2, m3] = c.members;
      await c.committee.connect(m1).joinRelease(roundId);
      await c.committee.connect(m3).joinRelease(roundId);
      await c.committee.connect(m1).submitDecryptionShares(roundId, SHARE_HASHES(1));
      // Member 3 joined and went silent: before the deadline nobody may drop it.
      const formedAt = (await c.committee.releaseOf(roundId)).formedAt;
      const deadline = formedAt + (await c.committee.SHARE_DEADLINE());
      await expect(c.committee.connect(c.stranger).dropSilentMembers(roundId))
        .to.be.revertedWithCustomError(c.committee, "SilenceDeadlineNotReached")
        .withArgs(roundId, deadline);
      await advanceTo(deadline);
      await expect(c.committee.connect(c.stranger).dropSilentMembers(roundId))
        .to.emit(c.committee, "SilentMembersDropped")
        .withArgs(roundId, [3], 1);
      const dropped = await c.committee.releaseOf(roundId);
      expect([dropped.joinedCount, dropped.submittedCount, dropped.silent, dropped.attempt]).to.deep.equal([
        0n,
        0n,
        0b1000n,
        1n,
      ]);
      await expect(c.committee.connect(m3).joinRelease(roundId))
        .to.be.revertedWithCustomError(c.committee, "MemberDroppedAsSilent")
        .withArgs(roundId, 3);
      await expect(c.committee.connect(c.stranger).dropSilentMembers(roundId))
        .to.be.revertedWithCustomError(c.committee, "NoDecryptingSetWaiting")
        .withArgs(roundId);
      await releaseBy(c, roundId, [m1, m2]);
      expect(await c.committee.decryptingSetOf(roundId)).to.deep.equal([1n, 2n]);
      expect((await c.rounds.round(roundId)).releaseHash).to.equal(RELEASE);
    });

    it("once the set's shares are in, any t members approve: a set member silent after its shares does not stall", async () => {
      const [m1, m2, m3] = c.members;
      for (const m of [m1, m2]) await c.committee.connect(m).joinRelease(roundId);
      await c.committee.connect(m1).submitDecryptionShares(roundId, SHARE_HASHES(1));
      await expect(c.committee.connect(m3).approveRelease(roundId, RELEASE))
        .to.be.revertedWithCustomError(c.committee, "DecryptionSharesIncomplete")
        .withArgs(roundId, 1, 2);
      await c.committee.connect(m2).submitDecryptionShares(roundId, SHARE_HASHES(2));
      await expect(c.committee.connect(c.stranger).dropSilentMembers(roundId))
        .to.be.revertedWithCustomError(c.committee, "NoDecryptingSetWaiting")
        .withArgs(roundId);
      // Member 2 is silent from here on; member 3, outside the set, combined the set's shares itself.
      await c.committee.connect(m1).approveRelease(roundId, RELEASE);
      await expect(c.committee.connect(m3).approveRelease(roundId, RELEASE))
        .to.emit(c.committee, "ReleaseAgreed")
        .withArgs(roundId, RELEASE, 0b110);
      expect((await c.rounds.round(roundId)).releaseHash).to.equal(RELEASE);
    });

    it("tells whether an account may read a round's inputs (a member of its program's committee)", async () => {
      expect(await c.committee.isRoundMember(roundId, c.members[2].address)).to.equal(true);
      expect(await c.committee.isRoundMember(roundId, c.stranger.address)).to.equal(false);
    });
  });

  describe("settlement", () => {
    it("one member proposes, t - 1 others confirm under encryption, anyone executes: the distributor credits the shares", async () => {
      const c = await deployCommitteeScenario();
      const [m1, m2] = c.members;
      const [alice, bob] = c.contributors;
      const roundId = await finalizedCommitteeRound(c);
      await fundPool(c, roundId, 100n);
      await releaseBy(c, roundId, [m1, m2]);
      const contributors = [alice.address, bob.address];
      const proposalId = await propose(c, roundId, m1, contributors, [60n, 40n]);
      const agreed = await confirm(c, proposalId, m2, [60n, 40n]);
      expect(await fhevm.publicDecryptEbool(agreed)).to.equal(true);
      const { decryptionProof } = await agreementProof(c, proposalId, [m2.address]);
      await expect(
        c.committee.connect(c.stranger).executeSettlement(proposalId, contributors, [m2.address], decryptionProof),
      )
        .to.emit(c.committee, "SettlementExecuted")
        .withArgs(proposalId, roundId)
        .and.to.emit(c.distributor, "SettlementBatchRecorded");
      const distributorAddress = await c.distributor.getAddress();
      for (const [who, share] of [
        [alice, 60n],
        [bob, 40n],
      ] as const) {
        const owed = await c.distributor.owedOf(roundId, who.address);
        expect(await fhevm.userDecryptEuint(FhevmType.euint64, owed, distributorAddress, who)).to.equal(share);
      }
      await c.committee.connect(m2).completeSettlement(roundId);
      expect(await fhevm.publicDecryptEuint(FhevmType.euint64, await c.distributor.unallocatedOf(roundId))).to.equal(
        0n,
      );
      expect((await c.committee.proposal(proposalId)).executed).to.equal(true);
    });

    it("a 1-of-1 committee settles at once when it proposes", async () => {
      const c = await deployCommitteeScenario({ memberCount: 1, threshold: 1 });
      const [m1] = c.members;
      const [alice, bob] = c.contributors;
      const roundId = await finalizedCommitteeRound(c);
      await fundPool(c, roundId, 10n);
      await releaseBy(c, roundId, [m1]);
      const encrypted = await encryptForCommittee(c, m1, [7n, 3n]);
      await expect(
        c.committee
          .connect(m1)
          .proposeSettlement(roundId, [alice.address, bob.address], encrypted.handles, encrypted.inputProofs),
      ).to.emit(c.committee, "SettlementExecuted");
      expect(await c.distributor.settledCount(roundId)).to.equal(2n);
    });

    it("the round must be finalized and released before anyone proposes", async () => {
      const c = await deployCommitteeScenario();
      const roundId = await openRound(c, c.committeeProgram);
      await expect(propose(c, roundId, c.members[0], [c.contributors[0].address], [1n]))
        .to.be.revertedWithCustomError(c.committee, "RoundNotFinalized")
        .withArgs(roundId, Phase.Open);
      const finalized = await finalizedCommitteeRound(c);
      await expect(propose(c, finalized, c.members[0], [c.contributors[0].address], [1n]))
        .to.be.revertedWithCustomError(c.committee, "ReleaseNotAnchored")
        .withArgs(finalized);
    });
  });
});
