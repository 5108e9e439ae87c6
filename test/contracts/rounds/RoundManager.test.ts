import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers } from "hardhat";
import { advanceTime, inputsHashOf, latestTimestamp, signRegistration } from "@ciphershare/scripts/lib/chain";
import {
  BASE_MODEL_HASH,
  COMMIT_PERIOD,
  DISPUTE_WINDOW,
  Phase,
  Reason,
  STORE_URI,
  closeAndPublish,
  commitAll,
  deployScenario,
  openRound,
  type Scenario,
} from "../fixtures";

const AGGREGATE = ethers.id("aggregate");
const SCORES = ethers.id("scores");
const EVIDENCE = ethers.id("evidence");
/** The gas budget of a commitment (the acceptance criterion). */
const COMMIT_GAS_BUDGET = 80_000n;

describe("RoundManager", () => {
  let s: Scenario;
  let alice: HardhatEthersSigner;
  let bob: HardhatEthersSigner;
  let carol: HardhatEthersSigner;

  beforeEach(async () => {
    s = await deployScenario();
    [alice, bob, carol] = s.contributors;
  });

  describe("openRound", () => {
    it("opens a round with global ids from 1 and emits its parameters", async () => {
      const deadline = (await latestTimestamp()) + 1000n;
      await expect(s.rounds.connect(s.network).openRound(s.programId, BASE_MODEL_HASH, deadline, DISPUTE_WINDOW))
        .to.emit(s.rounds, "RoundOpened")
        .withArgs(1n, s.programId, BASE_MODEL_HASH, deadline, DISPUTE_WINDOW);
      const round = await s.rounds.round(1n);
      expect(round.programId).to.equal(s.programId);
      expect(round.phase).to.equal(BigInt(Phase.Open));
      expect(round.commitDeadline).to.equal(deadline);
      expect(round.disputeWindow).to.equal(BigInt(DISPUTE_WINDOW));
      expect(round.baseModelHash).to.equal(BASE_MODEL_HASH);
      expect(round.commitCount).to.equal(0n);
      expect(await openRound(s)).to.equal(2n);
      expect(await s.rounds.roundCount()).to.equal(2n);
    });

    it("reverts when the caller is not the program's network", async () => {
      const deadline = (await latestTimestamp()) + 1000n;
      await expect(s.rounds.connect(alice).openRound(s.programId, BASE_MODEL_HASH, deadline, DISPUTE_WINDOW))
        .to.be.revertedWithCustomError(s.rounds, "NotProgramNetwork")
        .withArgs(s.programId, alice.address);
    });

    it("reverts for an unknown program", async () => {
      const deadline = (await latestTimestamp()) + 1000n;
      await expect(s.rounds.openRound(9n, BASE_MODEL_HASH, deadline, DISPUTE_WINDOW))
        .to.be.revertedWithCustomError(s.rounds, "ProgramNotFound")
        .withArgs(9n);
    });

    it("reverts when the commit deadline is not in the future", async () => {
      const now = await latestTimestamp();
      await expect(s.rounds.connect(s.network).openRound(s.programId, BASE_MODEL_HASH, now, DISPUTE_WINDOW))
        .to.be.revertedWithCustomError(s.rounds, "CommitDeadlineNotInFuture")
        .withArgs(now, now + 1n);
    });

    it("reverts when the dispute window is zero", async () => {
      const deadline = (await latestTimestamp()) + 1000n;
      await expect(
        s.rounds.connect(s.network).openRound(s.programId, BASE_MODEL_HASH, deadline, 0),
      ).to.be.revertedWithCustomError(s.rounds, "ZeroDisputeWindow");
    });
  });

  describe("commitContribution", () => {
    let roundId: bigint;
    const hash = ethers.id("ciphertext");

    beforeEach(async () => {
      roundId = await openRound(s);
      for (const c of [alice, bob, carol]) await s.rounds.connect(c).register("");
    });

    it("records the commitment, readable by contributor and by index, and emits the URI", async () => {
      await expect(s.rounds.connect(alice).commitContribution(roundId, hash, 600, STORE_URI))
        .to.emit(s.rounds, "ContributionCommitted")
        .withArgs(roundId, alice.address, hash, 600, STORE_URI);
      const bobHash = ethers.id("bob");
      await s.rounds.connect(bob).commitContribution(roundId, bobHash, 50, STORE_URI);
      expect(await s.rounds.commitmentOf(roundId, alice.address)).to.equal(hash);
      expect(await s.rounds.commitmentOf(roundId, carol.address)).to.equal(ethers.ZeroHash);
      const second = await s.rounds.commitmentAt(roundId, 1n);
      expect([second.contributor, second.sampleCount, second.ciphertextHash]).to.deep.equal([
        bob.address,
        50n,
        bobHash,
      ]);
      expect((await s.rounds.round(roundId)).commitCount).to.equal(2n);
      const all = await s.rounds.commitments(roundId, 0n, 10n);
      expect(all.map((c) => c.contributor)).to.deep.equal([alice.address, bob.address]);
      expect((await s.rounds.commitments(roundId, 1n, 1n)).map((c) => c.contributor)).to.deep.equal([bob.address]);
      expect(await s.rounds.commitments(roundId, 5n, 10n)).to.deep.equal([]);
    });

    it(`costs at most ${COMMIT_GAS_BUDGET} gas`, async () => {
      await s.rounds.connect(alice).commitContribution(roundId, hash, 600, STORE_URI);
      const tx = await s.rounds.connect(bob).commitContribution(roundId, ethers.id("bob"), 600, STORE_URI);
      const receipt = await tx.wait();
      expect(receipt!.gasUsed).to.be.at.most(COMMIT_GAS_BUDGET);
    });

    it("accepts a contributor registered gaslessly", async () => {
      const [dave] = (await ethers.getSigners()).slice(10, 11);
      const deadline = (await latestTimestamp()) + 3600n;
      const signature = await signRegistration(s.rounds, dave, "", deadline);
      await s.rounds.connect(s.outsider).registerWithSignature(dave.address, "", deadline, signature);
      await expect(s.rounds.connect(dave).commitContribution(roundId, hash, 1, STORE_URI)).to.emit(
        s.rounds,
        "ContributionCommitted",
      );
    });

    it("reverts for an unknown round", async () => {
      await expect(s.rounds.connect(alice).commitContribution(99n, hash, 1, STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "RoundNotFound")
        .withArgs(99n);
    });

    it("reverts after the deadline, and once the round is closed", async () => {
      const deadline = (await s.rounds.round(roundId)).commitDeadline;
      await advanceTime(COMMIT_PERIOD + 1);
      await expect(s.rounds.connect(alice).commitContribution(roundId, hash, 1, STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "CommitDeadlinePassed")
        .withArgs(roundId, deadline, (await latestTimestamp()) + 1n);
      await s.rounds.closeRound(roundId);
      await expect(s.rounds.connect(alice).commitContribution(roundId, hash, 1, STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Closed, Phase.Open);
    });

    it("reverts on a zero ciphertext hash or sample count", async () => {
      await expect(
        s.rounds.connect(alice).commitContribution(roundId, ethers.ZeroHash, 1, STORE_URI),
      ).to.be.revertedWithCustomError(s.rounds, "ZeroCiphertextHash");
      await expect(
        s.rounds.connect(alice).commitContribution(roundId, hash, 0, STORE_URI),
      ).to.be.revertedWithCustomError(s.rounds, "ZeroSampleCount");
    });

    it("reverts for unregistered and deregistered contributors", async () => {
      await expect(s.rounds.connect(s.outsider).commitContribution(roundId, hash, 1, STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "ContributorNotRegistered")
        .withArgs(s.outsider.address);
      await s.rounds.connect(carol).deregister();
      await expect(s.rounds.connect(carol).commitContribution(roundId, hash, 1, STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "ContributorNotRegistered")
        .withArgs(carol.address);
    });

    it("reverts on a second commitment to the same round", async () => {
      await s.rounds.connect(alice).commitContribution(roundId, hash, 1, STORE_URI);
      await expect(s.rounds.connect(alice).commitContribution(roundId, ethers.id("other"), 1, STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "AlreadyCommitted")
        .withArgs(roundId, alice.address);
    });

    it("reverts once a round holds 2^32 - 1 commitments (the count never carries into the next field)", async () => {
      // Find the round's first storage slot (mapping slot unknown to the test) and set its commitCount field.
      const hub = await s.rounds.getAddress();
      const commitCountBits = 0xffffffffn << 160n;
      for (let mappingSlot = 0n; mappingSlot < 32n; mappingSlot++) {
        const slot = ethers.keccak256(
          ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [roundId, mappingSlot]),
        );
        const word = BigInt(await ethers.provider.getStorage(hub, slot));
        if ((word & 0xffffffffffffffffn) !== s.programId || word >> 224n !== BigInt(Phase.Open)) continue;
        await ethers.provider.send("hardhat_setStorageAt", [hub, slot, ethers.toBeHex(word | commitCountBits, 32)]);
        break;
      }
      expect((await s.rounds.round(roundId)).commitCount).to.equal(0xffffffffn);
      await expect(
        s.rounds.connect(alice).commitContribution(roundId, hash, 1, STORE_URI),
      ).to.be.revertedWithCustomError(s.rounds, "TooManyCommitments");
    });

    it("reverts reading a commitment index past the end", async () => {
      await s.rounds.connect(alice).commitContribution(roundId, hash, 1, STORE_URI);
      await expect(s.rounds.commitmentAt(roundId, 1n))
        .to.be.revertedWithCustomError(s.rounds, "CommitmentIndexOutOfBounds")
        .withArgs(roundId, 1n, 1n);
    });
  });

  describe("closeRound", () => {
    it("closes after the deadline, callable by anyone", async () => {
      const roundId = await openRound(s);
      await commitAll(s, roundId, [alice, bob]);
      await advanceTime(COMMIT_PERIOD + 1);
      await expect(s.rounds.connect(s.outsider).closeRound(roundId))
        .to.emit(s.rounds, "RoundClosed")
        .withArgs(roundId, 2n);
      expect((await s.rounds.round(roundId)).phase).to.equal(BigInt(Phase.Closed));
    });

    it("reverts before the deadline and when not open", async () => {
      const roundId = await openRound(s);
      const deadline = (await s.rounds.round(roundId)).commitDeadline;
      await expect(s.rounds.closeRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "CommitDeadlineNotReached")
        .withArgs(roundId, deadline, (await latestTimestamp()) + 1n);
      await advanceTime(COMMIT_PERIOD + 1);
      await s.rounds.closeRound(roundId);
      await expect(s.rounds.closeRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Closed, Phase.Open);
      await expect(s.rounds.closeRound(42n)).to.be.revertedWithCustomError(s.rounds, "RoundNotFound").withArgs(42n);
    });
  });

  describe("publishResults", () => {
    let roundId: bigint;
    let hashes: string[];

    beforeEach(async () => {
      roundId = await openRound(s);
      hashes = await commitAll(s, roundId, [alice, bob, carol]);
      await advanceTime(COMMIT_PERIOD + 1);
      await s.rounds.closeRound(roundId);
    });

    it("stores the commitments, records exclusions and starts the dispute window", async () => {
      const inputs = inputsHashOf([hashes[0], hashes[2]]);
      const tx = s.rounds
        .connect(s.coprocessor)
        .publishResults(roundId, AGGREGATE, SCORES, inputs, [
          { contributor: bob.address, reason: Reason.HashMismatch },
        ]);
      await expect(tx).to.emit(s.rounds, "ContributionExcluded").withArgs(roundId, bob.address, Reason.HashMismatch);
      const disputeDeadline = (await latestTimestamp()) + BigInt(DISPUTE_WINDOW);
      await expect(tx)
        .to.emit(s.rounds, "ResultsPublished")
        .withArgs(roundId, AGGREGATE, SCORES, inputs, 2n, disputeDeadline);
      const round = await s.rounds.round(roundId);
      expect(round.phase).to.equal(BigInt(Phase.ResultsPublished));
      expect([round.aggregateHash, round.scoresHash, round.inputsHash]).to.deep.equal([AGGREGATE, SCORES, inputs]);
      expect(round.disputeDeadline).to.equal(disputeDeadline);
      expect(round.excludedCount).to.equal(1n);
      expect(await s.rounds.exclusionOf(roundId, bob.address)).to.equal(BigInt(Reason.HashMismatch));
      expect(await s.rounds.isIncluded(roundId, alice.address)).to.equal(true);
      expect(await s.rounds.isIncluded(roundId, bob.address)).to.equal(false);
      expect(await s.rounds.isIncluded(roundId, s.outsider.address)).to.equal(false);
    });

    it("reverts when the caller is not the program's coprocessor", async () => {
      await expect(s.rounds.connect(s.network).publishResults(roundId, AGGREGATE, SCORES, inputsHashOf(hashes), []))
        .to.be.revertedWithCustomError(s.rounds, "NotProgramCoprocessor")
        .withArgs(s.programId, s.network.address);
    });

    it("reverts when the round is not closed", async () => {
      const open = await openRound(s);
      await expect(s.rounds.connect(s.coprocessor).publishResults(open, AGGREGATE, SCORES, ethers.ZeroHash, []))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(open, Phase.Open, Phase.Closed);
    });

    it("reverts when the inputs hash does not match the included commitments, naming the expected one", async () => {
      const wrong = inputsHashOf([hashes[1], hashes[0], hashes[2]]);
      await expect(s.rounds.connect(s.coprocessor).publishResults(roundId, AGGREGATE, SCORES, wrong, []))
        .to.be.revertedWithCustomError(s.rounds, "InputsHashMismatch")
        .withArgs(roundId, inputsHashOf(hashes), wrong);
    });

    it("reverts on an exclusion without a reason, of a non-committer, or listed twice", async () => {
      const publish = (exclusions: { contributor: string; reason: Reason }[]) =>
        s.rounds
          .connect(s.coprocessor)
          .publishResults(roundId, AGGREGATE, SCORES, inputsHashOf([hashes[0]]), exclusions);
      await expect(publish([{ contributor: bob.address, reason: Reason.None }]))
        .to.be.revertedWithCustomError(s.rounds, "InvalidExclusionReason")
        .withArgs(bob.address);
      await expect(publish([{ contributor: s.outsider.address, reason: Reason.BlobMissing }]))
        .to.be.revertedWithCustomError(s.rounds, "NotACommitter")
        .withArgs(roundId, s.outsider.address);
      await expect(
        publish([
          { contributor: bob.address, reason: Reason.Malformed },
          { contributor: bob.address, reason: Reason.Malformed },
        ]),
      )
        .to.be.revertedWithCustomError(s.rounds, "AlreadyExcluded")
        .withArgs(roundId, bob.address);
    });
  });

  describe("challenge, resolution and finalization", () => {
    let roundId: bigint;
    let hashes: string[];

    beforeEach(async () => {
      roundId = await openRound(s);
      hashes = await commitAll(s, roundId, [alice, bob]);
      await closeAndPublish(s, roundId, [alice, bob], hashes, [bob]);
    });

    it("finalizes after the dispute window, callable by anyone", async () => {
      const disputeDeadline = (await s.rounds.round(roundId)).disputeDeadline;
      await expect(s.rounds.finalizeRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "DisputeWindowOpen")
        .withArgs(roundId, disputeDeadline, (await latestTimestamp()) + 1n);
      await advanceTime(DISPUTE_WINDOW + 1);
      await expect(s.rounds.connect(s.outsider).finalizeRound(roundId))
        .to.emit(s.rounds, "RoundFinalized")
        .withArgs(roundId);
      expect((await s.rounds.round(roundId)).phase).to.equal(BigInt(Phase.Finalized));
      await expect(s.rounds.finalizeRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Finalized, Phase.ResultsPublished);
    });

    it("lets an auditor challenge during the window, which blocks finalization", async () => {
      await expect(s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, "ipfs://evidence"))
        .to.emit(s.rounds, "ResultsChallenged")
        .withArgs(roundId, s.auditor.address, EVIDENCE, "ipfs://evidence");
      const round = await s.rounds.round(roundId);
      expect(round.phase).to.equal(BigInt(Phase.Challenged));
      expect(round.challenger).to.equal(s.auditor.address);
      await advanceTime(DISPUTE_WINDOW + 1);
      await expect(s.rounds.finalizeRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Challenged, Phase.ResultsPublished);
      await expect(s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, ""))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Challenged, Phase.ResultsPublished);
    });

    it("reverts a challenge after the dispute window", async () => {
      const disputeDeadline = (await s.rounds.round(roundId)).disputeDeadline;
      await advanceTime(DISPUTE_WINDOW + 1);
      await expect(s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, ""))
        .to.be.revertedWithCustomError(s.rounds, "DisputeWindowClosed")
        .withArgs(roundId, disputeDeadline, (await latestTimestamp()) + 1n);
    });

    /** The auditor challenges, the network resolves; returns the round afterwards. */
    const challengeAndResolve = async (upheld: boolean) => {
      await s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, "");
      await expect(s.rounds.connect(s.network).resolveChallenge(roundId, upheld))
        .to.emit(s.rounds, "ChallengeResolved")
        .withArgs(roundId, s.auditor.address, upheld);
      return s.rounds.round(roundId);
    };

    it("upheld: clears the results and exclusions and lets the coprocessor publish again", async () => {
      const round = await challengeAndResolve(true);
      expect(round.phase).to.equal(BigInt(Phase.Closed));
      expect([round.aggregateHash, round.inputsHash, round.challenger]).to.deep.equal([
        ethers.ZeroHash,
        ethers.ZeroHash,
        ethers.ZeroAddress,
      ]);
      expect(round.excludedCount).to.equal(0n);
      expect(await s.rounds.exclusionOf(roundId, bob.address)).to.equal(BigInt(Reason.None));
      await s.rounds.connect(s.coprocessor).publishResults(roundId, AGGREGATE, SCORES, inputsHashOf(hashes), []);
      expect(await s.rounds.isIncluded(roundId, bob.address)).to.equal(true);
    });

    it("rejected: back to ResultsPublished with the original deadline", async () => {
      const disputeDeadline = (await s.rounds.round(roundId)).disputeDeadline;
      const round = await challengeAndResolve(false);
      expect(round.phase).to.equal(BigInt(Phase.ResultsPublished));
      expect(round.disputeDeadline).to.equal(disputeDeadline);
      expect(round.inputsHash).to.equal(inputsHashOf([hashes[0]]));
      await advanceTime(DISPUTE_WINDOW + 1);
      await expect(s.rounds.finalizeRound(roundId)).to.emit(s.rounds, "RoundFinalized");
    });

    it("reverts a resolution by anyone but the network, or without a challenge", async () => {
      await expect(s.rounds.connect(s.network).resolveChallenge(roundId, true))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.ResultsPublished, Phase.Challenged);
      await s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, "");
      await expect(s.rounds.connect(s.auditor).resolveChallenge(roundId, true))
        .to.be.revertedWithCustomError(s.rounds, "NotProgramNetwork")
        .withArgs(s.programId, s.auditor.address);
    });
  });

  it("reverts reading an unknown round", async () => {
    await expect(s.rounds.round(5n)).to.be.revertedWithCustomError(s.rounds, "RoundNotFound").withArgs(5n);
    await expect(s.rounds.commitments(5n, 0n, 1n))
      .to.be.revertedWithCustomError(s.rounds, "RoundNotFound")
      .withArgs(5n);
  });
});
