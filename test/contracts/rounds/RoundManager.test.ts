import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers } from "hardhat";
import {
  CommitmentStatus,
  advanceTo,
  inputsHashOf,
  latestTimestamp,
  publicationOf,
  sealOf,
  signRegistration,
} from "@ciphershare/scripts/lib/chain";
import {
  BASE_MODEL_HASH,
  blockTimeFrom,
  CancelReason,
  COMMIT_PERIOD,
  DISPUTE_WINDOW,
  Phase,
  REVEAL_WINDOW,
  Reason,
  STORE_URI,
  closeAndPublish,
  closeRound,
  commitAll,
  contribute,
  createProgram,
  deployScenario,
  finalize,
  openRound,
  publish,
  revealAll,
  startReveal,
  type Scenario,
} from "../fixtures";

const AGGREGATE = ethers.id("aggregate");
const SCORES = ethers.id("scores");
const EVIDENCE = ethers.id("evidence");
const RELEASE = ethers.id("release record");
/** The gas budget of a commitment (the registry issue's acceptance criterion). */
const COMMIT_GAS_BUDGET = 80_000n;
const DEPOSIT = 10n ** 16n;

const reasonBytes = (...reasons: number[]): string => ethers.hexlify(Uint8Array.from(reasons));

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
    it("opens a round with global ids from 1, copies the program's terms and emits its deadlines", async () => {
      const deadline = (await latestTimestamp()) + 1000n;
      const revealDeadline = deadline + BigInt(REVEAL_WINDOW);
      await expect(
        s.rounds.connect(s.network).openRound(s.programId, BASE_MODEL_HASH, deadline, REVEAL_WINDOW, DISPUTE_WINDOW),
      )
        .to.emit(s.rounds, "RoundOpened")
        .withArgs(1n, s.programId, BASE_MODEL_HASH, deadline, revealDeadline, DISPUTE_WINDOW);
      const round = await s.rounds.round(1n);
      const program = await s.rounds.program(s.programId);
      expect(round.programId).to.equal(s.programId);
      expect(round.phase).to.equal(BigInt(Phase.Open));
      expect(round.commitDeadline).to.equal(deadline);
      expect(round.revealDeadline).to.equal(revealDeadline);
      expect(round.expiresAt).to.equal(revealDeadline + program.recoveryPeriod);
      expect(round.disputeWindow).to.equal(BigInt(DISPUTE_WINDOW));
      expect(round.baseModelHash).to.equal(BASE_MODEL_HASH);
      expect([round.minContributors, round.maxCommitments, round.commitDeposit]).to.deep.equal([
        program.minContributors,
        program.maxCommitments,
        program.commitDeposit,
      ]);
      expect([round.commitCount, round.publication, round.publicationCount]).to.deep.equal([0n, 0n, 0n]);
      expect(await openRound(s)).to.equal(2n);
      expect(await s.rounds.roundCount()).to.equal(2n);
    });

    it("reverts when the caller is not the program's network", async () => {
      const deadline = (await latestTimestamp()) + 1000n;
      await expect(s.rounds.connect(alice).openRound(s.programId, BASE_MODEL_HASH, deadline, 60, 60))
        .to.be.revertedWithCustomError(s.rounds, "NotProgramNetwork")
        .withArgs(s.programId, alice.address);
    });

    it("reverts for an unknown program", async () => {
      const deadline = (await latestTimestamp()) + 1000n;
      await expect(s.rounds.openRound(9n, BASE_MODEL_HASH, deadline, 60, 60))
        .to.be.revertedWithCustomError(s.rounds, "ProgramNotFound")
        .withArgs(9n);
    });

    it("reverts on a commit deadline not in the future, a zero reveal or dispute window", async () => {
      const now = await latestTimestamp();
      const open = (deadline: bigint, reveal: number, dispute: number) =>
        s.rounds.connect(s.network).openRound(s.programId, BASE_MODEL_HASH, deadline, reveal, dispute);
      await expect(open(now, 60, 60))
        .to.be.revertedWithCustomError(s.rounds, "CommitDeadlineNotInFuture")
        .withArgs(now, now + 1n);
      await expect(open(now + 1000n, 0, 60)).to.be.revertedWithCustomError(s.rounds, "ZeroRevealWindow");
      await expect(open(now + 1000n, 60, 0)).to.be.revertedWithCustomError(s.rounds, "ZeroDisputeWindow");
    });

    it("reverts when the dispute window does not fit in the program's recovery period", async () => {
      const programId = await createProgram(s, { recoveryPeriod: 3600 });
      const deadline = (await latestTimestamp()) + 1000n;
      await expect(s.rounds.connect(s.network).openRound(programId, BASE_MODEL_HASH, deadline, 60, 3600))
        .to.be.revertedWithCustomError(s.rounds, "DisputeWindowTooLong")
        .withArgs(3600n, 3600n);
    });
  });

  describe("commitContribution", () => {
    let roundId: bigint;
    const hash = ethers.id("ciphertext");

    beforeEach(async () => {
      roundId = await openRound(s);
      for (const c of [alice, bob, carol]) await s.rounds.connect(c).register("");
    });

    it("records a sealed commitment, readable by contributor and by index; no hash or URI is published", async () => {
      const seal = sealOf(hash, alice.address);
      await expect(s.rounds.connect(alice).commitContribution(roundId, seal, 600))
        .to.emit(s.rounds, "ContributionCommitted")
        .withArgs(roundId, alice.address, 0n, seal, 600n);
      await s.rounds.connect(bob).commitContribution(roundId, sealOf(ethers.id("bob"), bob.address), 50);
      expect(await s.rounds.commitmentIndexOf(roundId, bob.address)).to.equal(1n);
      expect(await s.rounds.commitmentOf(roundId, alice.address)).to.equal(ethers.ZeroHash, "still sealed");
      expect(await s.rounds.commitmentOf(roundId, carol.address)).to.equal(ethers.ZeroHash);
      const second = await s.rounds.commitmentAt(roundId, 1n);
      expect([second.contributor, second.sampleCount, second.status, second.ciphertextHash]).to.deep.equal([
        bob.address,
        50n,
        BigInt(CommitmentStatus.Sealed),
        ethers.ZeroHash,
      ]);
      expect((await s.rounds.round(roundId)).commitCount).to.equal(2n);
      const all = await s.rounds.commitments(roundId, 0n, 10n);
      expect(all.map((c) => c.contributor)).to.deep.equal([alice.address, bob.address]);
      expect((await s.rounds.commitments(roundId, 1n, 1n)).map((c) => c.contributor)).to.deep.equal([bob.address]);
      expect(await s.rounds.commitments(roundId, 5n, 10n)).to.deep.equal([]);
      await expect(s.rounds.commitmentIndexOf(roundId, carol.address))
        .to.be.revertedWithCustomError(s.rounds, "NotACommitter")
        .withArgs(roundId, carol.address);
    });

    it(`costs at most ${COMMIT_GAS_BUDGET} gas, with or without a deposit`, async () => {
      await s.rounds.connect(alice).commitContribution(roundId, sealOf(hash, alice.address), 600);
      const tx = await s.rounds.connect(bob).commitContribution(roundId, sealOf(ethers.id("bob"), bob.address), 600);
      expect((await tx.wait())!.gasUsed).to.be.at.most(COMMIT_GAS_BUDGET);
      const deposits = await openRound(s, await createProgram(s, { commitDeposit: DEPOSIT }));
      await s.rounds.connect(alice).commitContribution(deposits, sealOf(hash, alice.address), 600, { value: DEPOSIT });
      const paid = await s.rounds
        .connect(bob)
        .commitContribution(deposits, sealOf(ethers.id("bob"), bob.address), 600, { value: DEPOSIT });
      expect((await paid.wait())!.gasUsed).to.be.at.most(COMMIT_GAS_BUDGET);
    });

    it("accepts a contributor registered gaslessly", async () => {
      const [dave] = (await ethers.getSigners()).slice(10, 11);
      const deadline = (await latestTimestamp()) + 3600n;
      const signature = await signRegistration(s.rounds, dave, "", deadline);
      await s.rounds.connect(s.outsider).registerWithSignature(dave.address, "", deadline, signature);
      await expect(s.rounds.connect(dave).commitContribution(roundId, sealOf(hash, dave.address), 1)).to.emit(
        s.rounds,
        "ContributionCommitted",
      );
    });

    it("reverts for an unknown round", async () => {
      await expect(s.rounds.connect(alice).commitContribution(99n, sealOf(hash, alice.address), 1))
        .to.be.revertedWithCustomError(s.rounds, "RoundNotFound")
        .withArgs(99n);
    });

    it("reverts after the commit deadline (the reveal phase), and once the round is closed", async () => {
      const deadline = (await s.rounds.round(roundId)).commitDeadline;
      await startReveal(s, roundId);
      expect((await s.rounds.round(roundId)).phase).to.equal(BigInt(Phase.Reveal));
      const now = await latestTimestamp();
      await expect(s.rounds.connect(alice).commitContribution(roundId, sealOf(hash, alice.address), 1))
        .to.be.revertedWithCustomError(s.rounds, "CommitDeadlinePassed")
        .withArgs(roundId, deadline, blockTimeFrom(now));
      await closeRound(s, roundId);
      await expect(s.rounds.connect(alice).commitContribution(roundId, sealOf(hash, alice.address), 1))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Cancelled, Phase.Open);
    });

    it("reverts on a zero seal or sample count", async () => {
      await expect(
        s.rounds.connect(alice).commitContribution(roundId, ethers.ZeroHash, 1),
      ).to.be.revertedWithCustomError(s.rounds, "ZeroSeal");
      const lowBytesOnly = ethers.toBeHex(0xffffffffn, 32);
      await expect(s.rounds.connect(alice).commitContribution(roundId, lowBytesOnly, 1)).to.be.revertedWithCustomError(
        s.rounds,
        "ZeroSeal",
      );
      await expect(
        s.rounds.connect(alice).commitContribution(roundId, sealOf(hash, alice.address), 0),
      ).to.be.revertedWithCustomError(s.rounds, "ZeroSampleCount");
    });

    it("reverts for unregistered and deregistered contributors", async () => {
      await expect(s.rounds.connect(s.outsider).commitContribution(roundId, sealOf(hash, s.outsider.address), 1))
        .to.be.revertedWithCustomError(s.rounds, "ContributorNotRegistered")
        .withArgs(s.outsider.address);
      await s.rounds.connect(carol).deregister();
      await expect(s.rounds.connect(carol).commitContribution(roundId, sealOf(hash, carol.address), 1))
        .to.be.revertedWithCustomError(s.rounds, "ContributorNotRegistered")
        .withArgs(carol.address);
    });

    it("reverts on a second commitment to the same round", async () => {
      await s.rounds.connect(alice).commitContribution(roundId, sealOf(hash, alice.address), 1);
      await expect(s.rounds.connect(alice).commitContribution(roundId, sealOf(ethers.id("other"), alice.address), 1))
        .to.be.revertedWithCustomError(s.rounds, "AlreadyCommitted")
        .withArgs(roundId, alice.address);
    });

    it("reverts beyond the program's commitment cap", async () => {
      const capped = await openRound(s, await createProgram(s, { minContributors: 1, maxCommitments: 2 }));
      await commitAll(s, capped, [alice, bob]);
      await expect(s.rounds.connect(carol).commitContribution(capped, sealOf(hash, carol.address), 1))
        .to.be.revertedWithCustomError(s.rounds, "CommitmentCapReached")
        .withArgs(capped, 2n);
    });

    it("requires exactly the program's deposit", async () => {
      const deposits = await openRound(s, await createProgram(s, { commitDeposit: DEPOSIT }));
      const seal = sealOf(hash, alice.address);
      for (const value of [0n, DEPOSIT - 1n, DEPOSIT + 1n]) {
        await expect(s.rounds.connect(alice).commitContribution(deposits, seal, 1, { value }))
          .to.be.revertedWithCustomError(s.rounds, "WrongCommitDeposit")
          .withArgs(deposits, DEPOSIT, value);
      }
      await expect(
        s.rounds.connect(alice).commitContribution(deposits, seal, 1, { value: DEPOSIT }),
      ).to.changeEtherBalances([alice, s.rounds], [-DEPOSIT, DEPOSIT]);
      await expect(s.rounds.connect(bob).commitContribution(roundId, sealOf(hash, bob.address), 1, { value: 1n }))
        .to.be.revertedWithCustomError(s.rounds, "WrongCommitDeposit")
        .withArgs(roundId, 0n, 1n);
    });
  });

  describe("revealContribution", () => {
    let roundId: bigint;
    let hashes: string[];

    beforeEach(async () => {
      roundId = await openRound(s);
      hashes = await commitAll(s, roundId, [alice, bob, carol]);
    });

    it("reveals the sealed hash after the commit deadline, with the URI in the event only", async () => {
      await startReveal(s, roundId);
      await expect(s.rounds.connect(bob).revealContribution(roundId, hashes[1], STORE_URI))
        .to.emit(s.rounds, "ContributionRevealed")
        .withArgs(roundId, bob.address, 1n, hashes[1], STORE_URI);
      expect(await s.rounds.commitmentOf(roundId, bob.address)).to.equal(hashes[1]);
      const commitment = await s.rounds.commitmentAt(roundId, 1n);
      expect([commitment.status, commitment.ciphertextHash]).to.deep.equal([
        BigInt(CommitmentStatus.Revealed),
        hashes[1],
      ]);
      expect(await s.rounds.firstRevealOf(hashes[1])).to.deep.equal([roundId, 1n]);
      const round = await s.rounds.round(roundId);
      expect([round.revealedCount, round.duplicateCount]).to.deep.equal([1n, 0n]);
    });

    it("reverts during the commit phase: nothing can be revealed (hence copied) before the commit deadline", async () => {
      await expect(s.rounds.connect(alice).revealContribution(roundId, hashes[0], STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Open, Phase.Reveal);
    });

    it("reverts after the reveal deadline", async () => {
      const revealDeadline = (await s.rounds.round(roundId)).revealDeadline;
      await advanceTo(revealDeadline + 1n);
      const now = await latestTimestamp();
      await expect(s.rounds.connect(alice).revealContribution(roundId, hashes[0], STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "RevealDeadlinePassed")
        .withArgs(roundId, revealDeadline, blockTimeFrom(now));
    });

    it("reverts on a hash other than the sealed one, a zero hash, a second reveal or a non-committer", async () => {
      await startReveal(s, roundId);
      await expect(s.rounds.connect(alice).revealContribution(roundId, hashes[1], STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "SealMismatch")
        .withArgs(roundId, alice.address, hashes[1]);
      await expect(
        s.rounds.connect(alice).revealContribution(roundId, ethers.ZeroHash, STORE_URI),
      ).to.be.revertedWithCustomError(s.rounds, "ZeroCiphertextHash");
      await s.rounds.connect(alice).revealContribution(roundId, hashes[0], STORE_URI);
      await expect(s.rounds.connect(alice).revealContribution(roundId, hashes[0], STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "AlreadyRevealed")
        .withArgs(roundId, alice.address);
      await expect(s.rounds.connect(s.outsider).revealContribution(roundId, hashes[0], STORE_URI))
        .to.be.revertedWithCustomError(s.rounds, "NotACommitter")
        .withArgs(roundId, s.outsider.address);
    });

    it("marks a hash revealed before (here, earlier in the same round) as a duplicate", async () => {
      const copyRound = await openRound(s);
      const [dave, erin] = s.contributors.slice(3, 5);
      const shared = ethers.id("shared ciphertext");
      await commitAll(s, copyRound, [dave, erin], [shared, shared]);
      await startReveal(s, copyRound);
      await s.rounds.connect(dave).revealContribution(copyRound, shared, STORE_URI);
      await expect(s.rounds.connect(erin).revealContribution(copyRound, shared, STORE_URI))
        .to.emit(s.rounds, "DuplicateRevealed")
        .withArgs(copyRound, 1n, shared, copyRound, 0n);
      expect((await s.rounds.commitmentAt(copyRound, 1n)).status).to.equal(BigInt(CommitmentStatus.Duplicate));
      const round = await s.rounds.round(copyRound);
      expect([round.revealedCount, round.duplicateCount]).to.deep.equal([1n, 1n]);
    });
  });

  describe("closeRound", () => {
    it("closes after the reveal deadline, callable by anyone, counting the reveals", async () => {
      const roundId = await openRound(s);
      const hashes = await commitAll(s, roundId, [alice, bob]);
      await revealAll(s, roundId, [alice], hashes);
      await advanceTo((await s.rounds.round(roundId)).revealDeadline + 1n);
      await expect(s.rounds.connect(s.outsider).closeRound(roundId))
        .to.emit(s.rounds, "RoundClosed")
        .withArgs(roundId, 2n, 1n);
      expect((await s.rounds.round(roundId)).phase).to.equal(BigInt(Phase.Closed));
    });

    it("reverts before the reveal deadline and when not in the reveal phase", async () => {
      const roundId = await openRound(s);
      await contribute(s, roundId, [alice]);
      const revealDeadline = (await s.rounds.round(roundId)).revealDeadline;
      const now = await latestTimestamp();
      await expect(s.rounds.closeRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RevealDeadlineNotReached")
        .withArgs(roundId, revealDeadline, blockTimeFrom(now));
      await closeRound(s, roundId);
      await expect(s.rounds.closeRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Closed, Phase.Reveal);
      const open = await openRound(s);
      await expect(s.rounds.closeRound(open))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(open, Phase.Open, Phase.Reveal);
      await expect(s.rounds.closeRound(42n)).to.be.revertedWithCustomError(s.rounds, "RoundNotFound").withArgs(42n);
    });

    it("cancels a round with fewer reveals than the program's minimum", async () => {
      const roundId = await openRound(s, await createProgram(s, { minContributors: 2 }));
      const hashes = await commitAll(s, roundId, [alice, bob]);
      await revealAll(s, roundId, [alice], hashes);
      await advanceTo((await s.rounds.round(roundId)).revealDeadline + 1n);
      await expect(s.rounds.closeRound(roundId))
        .to.emit(s.rounds, "RoundCancelled")
        .withArgs(roundId, CancelReason.TooFewRevealed);
      const round = await s.rounds.round(roundId);
      expect([round.phase, round.cancelReason]).to.deep.equal([
        BigInt(Phase.Cancelled),
        BigInt(CancelReason.TooFewRevealed),
      ]);
    });
  });

  describe("publishResults", () => {
    let roundId: bigint;
    let hashes: string[];

    beforeEach(async () => {
      roundId = await openRound(s);
      hashes = await contribute(s, roundId, [alice, bob, carol]);
      await closeRound(s, roundId);
    });

    it("records publication 1: one reason byte per commitment, the included count and the dispute window", async () => {
      const inputs = inputsHashOf([hashes[0], hashes[2]]);
      const reasons = reasonBytes(Reason.None, Reason.HashMismatch, Reason.None);
      const tx = await s.rounds.connect(s.coprocessor).publishResults(roundId, AGGREGATE, SCORES, inputs, reasons);
      const disputeDeadline = (await latestTimestamp()) + BigInt(DISPUTE_WINDOW);
      await expect(tx)
        .to.emit(s.rounds, "ResultsPublished")
        .withArgs(roundId, 1n, AGGREGATE, SCORES, inputs, 2n, disputeDeadline, reasons);
      const round = await s.rounds.round(roundId);
      expect(round.phase).to.equal(BigInt(Phase.ResultsPublished));
      expect([round.aggregateHash, round.scoresHash, round.inputsHash]).to.deep.equal([AGGREGATE, SCORES, inputs]);
      expect([round.publication, round.publicationCount, round.includedCount]).to.deep.equal([1n, 1n, 2n]);
      expect(round.disputeDeadline).to.equal(disputeDeadline);
      expect(await s.rounds.exclusionOf(roundId, bob.address)).to.equal(BigInt(Reason.HashMismatch));
      expect(await s.rounds.exclusionOf(roundId, alice.address)).to.equal(BigInt(Reason.None));
      expect(await s.rounds.exclusionReasons(roundId, 1n)).to.equal(reasons);
      expect(await s.rounds.isIncluded(roundId, alice.address)).to.equal(true);
      expect(await s.rounds.isIncluded(roundId, bob.address)).to.equal(false);
      expect(await s.rounds.isIncluded(roundId, s.outsider.address)).to.equal(false);
    });

    it("reverts when the caller is not the program's coprocessor", async () => {
      const reasons = reasonBytes(Reason.None, Reason.None, Reason.None);
      await expect(
        s.rounds.connect(s.network).publishResults(roundId, AGGREGATE, SCORES, inputsHashOf(hashes), reasons),
      )
        .to.be.revertedWithCustomError(s.rounds, "NotProgramCoprocessor")
        .withArgs(s.programId, s.network.address);
    });

    it("reverts when the round is not closed", async () => {
      const open = await openRound(s);
      await expect(s.rounds.connect(s.coprocessor).publishResults(open, AGGREGATE, SCORES, ethers.ZeroHash, "0x"))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(open, Phase.Open, Phase.Closed);
    });

    it("reverts when the inputs hash does not match the included commitments, naming the expected one", async () => {
      const wrong = inputsHashOf([hashes[1], hashes[0], hashes[2]]);
      const reasons = reasonBytes(Reason.None, Reason.None, Reason.None);
      await expect(s.rounds.connect(s.coprocessor).publishResults(roundId, AGGREGATE, SCORES, wrong, reasons))
        .to.be.revertedWithCustomError(s.rounds, "InputsHashMismatch")
        .withArgs(roundId, inputsHashOf(hashes), wrong);
    });

    it("reverts unless there is exactly one reason per commitment", async () => {
      for (const reasons of [reasonBytes(Reason.None, Reason.None), reasonBytes(0, 0, 0, 0)]) {
        await expect(
          s.rounds.connect(s.coprocessor).publishResults(roundId, AGGREGATE, SCORES, inputsHashOf(hashes), reasons),
        )
          .to.be.revertedWithCustomError(s.rounds, "ExclusionReasonsLengthMismatch")
          .withArgs(roundId, 3n, ethers.dataLength(reasons));
      }
    });

    it("reverts on a reason that is not allowed for a revealed commitment", async () => {
      for (const reason of [Reason.Duplicate, Reason.Unrevealed, 7]) {
        const reasons = reasonBytes(Reason.None, reason, Reason.None);
        await expect(
          s.rounds
            .connect(s.coprocessor)
            .publishResults(roundId, AGGREGATE, SCORES, inputsHashOf([hashes[0], hashes[2]]), reasons),
        )
          .to.be.revertedWithCustomError(s.rounds, "InvalidExclusionReason")
          .withArgs(roundId, 1n, reason, CommitmentStatus.Revealed);
      }
    });

    it("requires Unrevealed for a sealed commitment and Duplicate for a duplicate: the coprocessor cannot include them", async () => {
      const other = await openRound(s);
      const [dave, erin] = s.contributors.slice(3, 5);
      const copied = await commitAll(
        s,
        other,
        [alice, bob, dave, erin],
        [...hashes.slice(0, 1), ethers.id("b"), ethers.id("d"), ethers.id("e")],
      );
      await revealAll(s, other, [alice, bob, dave], copied);
      await closeRound(s, other);
      const expectInvalid = async (reasons: Reason[], index: number, status: CommitmentStatus) => {
        const included = copied.filter((_, i) => reasons[i] === Reason.None);
        await expect(
          s.rounds
            .connect(s.coprocessor)
            .publishResults(other, AGGREGATE, SCORES, inputsHashOf(included), reasonBytes(...reasons)),
        )
          .to.be.revertedWithCustomError(s.rounds, "InvalidExclusionReason")
          .withArgs(other, index, reasons[index], status);
      };
      await expectInvalid([Reason.None, Reason.None, Reason.None, Reason.Unrevealed], 0, CommitmentStatus.Duplicate);
      await expectInvalid(
        [Reason.Malformed, Reason.None, Reason.None, Reason.Unrevealed],
        0,
        CommitmentStatus.Duplicate,
      );
      await expectInvalid([Reason.Duplicate, Reason.None, Reason.None, Reason.None], 3, CommitmentStatus.Sealed);
      await expectInvalid([Reason.Duplicate, Reason.None, Reason.None, Reason.BlobMissing], 3, CommitmentStatus.Sealed);
      const publication = await publicationOf(s.rounds, other);
      expect(publication.reasons).to.equal(reasonBytes(Reason.Duplicate, Reason.None, Reason.None, Reason.Unrevealed));
      await s.rounds
        .connect(s.coprocessor)
        .publishResults(other, AGGREGATE, SCORES, publication.inputsHash, publication.reasons);
      expect((await s.rounds.round(other)).includedCount).to.equal(2n);
    });

    it("ignores calldata padding after the reasons", async () => {
      const reasons = reasonBytes(Reason.None, Reason.Malformed, Reason.None);
      const data = s.rounds.interface.encodeFunctionData("publishResults", [
        roundId,
        AGGREGATE,
        SCORES,
        inputsHashOf([hashes[0], hashes[2]]),
        reasons,
      ]);
      // The reasons are the last argument: 3 bytes then 29 bytes of padding, which a caller can set at will.
      const dirty = data.slice(0, data.length - 58) + "ff".repeat(29);
      await s.coprocessor.sendTransaction({ to: await s.rounds.getAddress(), data: dirty });
      expect(await s.rounds.exclusionReasons(roundId, 1n)).to.equal(reasons);
      expect(await s.rounds.isIncluded(roundId, carol.address)).to.equal(true);
    });
  });

  describe("challenge, resolution and finalization", () => {
    let roundId: bigint;
    let hashes: string[];

    beforeEach(async () => {
      roundId = await openRound(s);
      hashes = await contribute(s, roundId, [alice, bob]);
      await closeAndPublish(s, roundId, [bob]);
    });

    it("finalizes after the dispute window, callable by anyone, and starts the settlement deadline", async () => {
      const disputeDeadline = (await s.rounds.round(roundId)).disputeDeadline;
      const now = await latestTimestamp();
      await expect(s.rounds.finalizeRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "DisputeWindowOpen")
        .withArgs(roundId, disputeDeadline, blockTimeFrom(now));
      await advanceTo(disputeDeadline + 1n);
      await expect(s.rounds.connect(s.outsider).finalizeRound(roundId))
        .to.emit(s.rounds, "RoundFinalized")
        .withArgs(roundId, 1n);
      const round = await s.rounds.round(roundId);
      expect(round.phase).to.equal(BigInt(Phase.Finalized));
      const recoveryPeriod = (await s.rounds.program(s.programId)).recoveryPeriod;
      expect(round.settlementDeadline).to.equal((await latestTimestamp()) + recoveryPeriod);
      await expect(s.rounds.finalizeRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Finalized, Phase.ResultsPublished);
    });

    it("cancels instead when the publication included fewer contributions than the program's minimum", async () => {
      const thin = await openRound(s, await createProgram(s, { minContributors: 2 }));
      await contribute(s, thin, [alice, bob]);
      await closeAndPublish(s, thin, [bob]);
      await advanceTo((await s.rounds.round(thin)).disputeDeadline + 1n);
      await expect(s.rounds.finalizeRound(thin))
        .to.emit(s.rounds, "RoundCancelled")
        .withArgs(thin, CancelReason.TooFewIncluded);
      expect((await s.rounds.round(thin)).phase).to.equal(BigInt(Phase.Cancelled));
    });

    it("lets an auditor challenge the standing publication during the window, which blocks finalization", async () => {
      await expect(s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, "ipfs://evidence"))
        .to.emit(s.rounds, "ResultsChallenged")
        .withArgs(roundId, 1n, s.auditor.address, EVIDENCE, "ipfs://evidence");
      const round = await s.rounds.round(roundId);
      expect(round.phase).to.equal(BigInt(Phase.Challenged));
      expect(round.challenger).to.equal(s.auditor.address);
      await advanceTo(round.disputeDeadline + 1n);
      await expect(s.rounds.finalizeRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Challenged, Phase.ResultsPublished);
      await expect(s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, ""))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.Challenged, Phase.ResultsPublished);
    });

    it("reverts a challenge after the dispute window", async () => {
      const disputeDeadline = (await s.rounds.round(roundId)).disputeDeadline;
      await advanceTo(disputeDeadline + 1n);
      const now = await latestTimestamp();
      await expect(s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, ""))
        .to.be.revertedWithCustomError(s.rounds, "DisputeWindowClosed")
        .withArgs(roundId, disputeDeadline, blockTimeFrom(now));
    });

    /** The auditor challenges, the network resolves; returns the round afterwards. */
    const challengeAndResolve = async (upheld: boolean) => {
      await s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, "");
      await expect(s.rounds.connect(s.network).resolveChallenge(roundId, upheld))
        .to.emit(s.rounds, "ChallengeResolved")
        .withArgs(roundId, 1n, s.auditor.address, upheld);
      return s.rounds.round(roundId);
    };

    it("upheld: discards publication 1 (its exclusions no longer count) and the coprocessor publishes 2", async () => {
      const round = await challengeAndResolve(true);
      expect(round.phase).to.equal(BigInt(Phase.Closed));
      expect([round.aggregateHash, round.inputsHash, round.challenger]).to.deep.equal([
        ethers.ZeroHash,
        ethers.ZeroHash,
        ethers.ZeroAddress,
      ]);
      expect([round.publication, round.publicationCount, round.includedCount]).to.deep.equal([0n, 1n, 0n]);
      expect(await s.rounds.exclusionOf(roundId, bob.address)).to.equal(BigInt(Reason.None));
      expect(await s.rounds.isIncluded(roundId, alice.address)).to.equal(false, "no publication stands");
      await expect(
        s.rounds
          .connect(s.coprocessor)
          .publishResults(roundId, AGGREGATE, SCORES, inputsHashOf(hashes), reasonBytes(Reason.None, Reason.None)),
      )
        .to.emit(s.rounds, "ResultsPublished")
        .withArgs(roundId, 2n, AGGREGATE, SCORES, inputsHashOf(hashes), 2n, anyValue, reasonBytes(0, 0));
      expect(await s.rounds.isIncluded(roundId, bob.address)).to.equal(true);
      expect(await s.rounds.exclusionReasons(roundId, 1n)).to.equal(reasonBytes(Reason.None, Reason.Policy));
      expect(await s.rounds.exclusionReasons(roundId, 2n)).to.equal(reasonBytes(Reason.None, Reason.None));
      await expect(s.rounds.exclusionReasons(roundId, 3n))
        .to.be.revertedWithCustomError(s.rounds, "PublicationNotFound")
        .withArgs(roundId, 3n, 2n);
      await finalize(s, roundId);
      const [event] = await s.rounds.queryFilter(s.rounds.filters.RoundFinalized(roundId));
      expect(event.args.publication).to.equal(2n);
    });

    it("rejected: back to ResultsPublished with the original deadline", async () => {
      const disputeDeadline = (await s.rounds.round(roundId)).disputeDeadline;
      const round = await challengeAndResolve(false);
      expect(round.phase).to.equal(BigInt(Phase.ResultsPublished));
      expect(round.disputeDeadline).to.equal(disputeDeadline);
      expect(round.inputsHash).to.equal(inputsHashOf([hashes[0]]));
      await advanceTo(disputeDeadline + 1n);
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

  describe("expireRound", () => {
    let roundId: bigint;

    beforeEach(async () => {
      roundId = await openRound(s);
      await contribute(s, roundId, [alice, bob]);
      await closeRound(s, roundId);
    });

    it("cancels a round not finalized by its expiry; anyone may call", async () => {
      const expiresAt = (await s.rounds.round(roundId)).expiresAt;
      const now = await latestTimestamp();
      await expect(s.rounds.expireRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundNotExpired")
        .withArgs(roundId, expiresAt, blockTimeFrom(now));
      await advanceTo(expiresAt + 1n);
      await expect(s.rounds.connect(s.outsider).expireRound(roundId))
        .to.emit(s.rounds, "RoundCancelled")
        .withArgs(roundId, CancelReason.Expired);
      expect((await s.rounds.round(roundId)).cancelReason).to.equal(BigInt(CancelReason.Expired));
      await expect(s.rounds.expireRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundAlreadyFinal")
        .withArgs(roundId, Phase.Cancelled);
    });

    it("expires a round stuck in a challenge, not one whose publication stood (finalize it instead)", async () => {
      await publish(s, roundId);
      const expiresAt = (await s.rounds.round(roundId)).expiresAt;
      await advanceTo(expiresAt + 1n);
      await expect(s.rounds.expireRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundFinalizable")
        .withArgs(roundId);
      const challenged = await openRound(s);
      await contribute(s, challenged, [alice]);
      await closeRound(s, challenged);
      await publish(s, challenged);
      await s.rounds.connect(s.auditor).challengeResults(challenged, EVIDENCE, "");
      await advanceTo((await s.rounds.round(challenged)).expiresAt + 1n);
      await s.rounds.expireRound(challenged);
      const round = await s.rounds.round(challenged);
      expect([round.phase, round.challenger]).to.deep.equal([BigInt(Phase.Cancelled), ethers.ZeroAddress]);
      await s.rounds.finalizeRound(roundId);
      await expect(s.rounds.expireRound(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundAlreadyFinal")
        .withArgs(roundId, Phase.Finalized);
    });
  });

  describe("anchorRelease", () => {
    let roundId: bigint;

    beforeEach(async () => {
      roundId = await openRound(s);
      await contribute(s, roundId, [alice]);
      await closeAndPublish(s, roundId);
    });

    it("anchors the release record of a finalized round once, naming the standing publication", async () => {
      await expect(s.rounds.connect(s.custodian).anchorRelease(roundId, RELEASE))
        .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
        .withArgs(roundId, Phase.ResultsPublished, Phase.Finalized);
      await finalize(s, roundId);
      await expect(s.rounds.connect(s.custodian).anchorRelease(roundId, RELEASE))
        .to.emit(s.rounds, "ReleaseAnchored")
        .withArgs(roundId, 1n, RELEASE);
      expect((await s.rounds.round(roundId)).releaseHash).to.equal(RELEASE);
      await expect(s.rounds.connect(s.custodian).anchorRelease(roundId, ethers.id("other")))
        .to.be.revertedWithCustomError(s.rounds, "ReleaseAlreadyAnchored")
        .withArgs(roundId, RELEASE);
    });

    it("reverts for anyone but the program's custodian, and on a zero hash", async () => {
      await finalize(s, roundId);
      for (const other of [s.network, s.coprocessor, s.outsider]) {
        await expect(s.rounds.connect(other).anchorRelease(roundId, RELEASE))
          .to.be.revertedWithCustomError(s.rounds, "NotProgramCustodian")
          .withArgs(s.programId, other.address);
      }
      await expect(s.rounds.connect(s.custodian).anchorRelease(roundId, ethers.ZeroHash)).to.be.revertedWithCustomError(
        s.rounds,
        "ZeroReleaseHash",
      );
    });
  });

  describe("deposits", () => {
    let programId: bigint;

    beforeEach(async () => {
      programId = await createProgram(s, { minContributors: 2, commitDeposit: DEPOSIT });
    });

    it("refunds included contributors of a finalized round; excluded and unrevealed deposits go to the network", async () => {
      const dave = s.contributors[3];
      const roundId = await openRound(s, programId);
      const hashes = await commitAll(s, roundId, [alice, bob, carol, dave]);
      await revealAll(s, roundId, [alice, bob, dave], [hashes[0], hashes[1], hashes[3]]);
      await closeRound(s, roundId);
      await publish(s, roundId, new Map([[1, Reason.Malformed]]));
      await expect(s.rounds.connect(alice).withdrawDeposit(roundId))
        .to.be.revertedWithCustomError(s.rounds, "RoundNotConcluded")
        .withArgs(roundId, Phase.ResultsPublished);
      expect(await s.rounds.isDepositRefundable(roundId, alice.address)).to.equal(false);
      await finalize(s, roundId);
      expect(await s.rounds.isDepositRefundable(roundId, alice.address)).to.equal(true);
      expect(await s.rounds.isDepositRefundable(roundId, bob.address)).to.equal(false);
      const refund = await s.rounds.connect(alice).withdrawDeposit(roundId);
      await expect(refund).to.emit(s.rounds, "DepositRefunded").withArgs(roundId, alice.address, DEPOSIT);
      await expect(refund).to.changeEtherBalances([alice, s.rounds], [DEPOSIT, -DEPOSIT]);
      expect(await s.rounds.isDepositRefundable(roundId, alice.address)).to.equal(false);
      await expect(s.rounds.connect(alice).withdrawDeposit(roundId))
        .to.be.revertedWithCustomError(s.rounds, "DepositAlreadyWithdrawn")
        .withArgs(roundId, alice.address);
      for (const forfeited of [bob, carol]) {
        await expect(s.rounds.connect(forfeited).withdrawDeposit(roundId))
          .to.be.revertedWithCustomError(s.rounds, "DepositForfeited")
          .withArgs(roundId, forfeited.address);
      }
      const collect = await s.rounds.connect(s.network).collectForfeitedDeposits(roundId);
      await expect(collect)
        .to.emit(s.rounds, "ForfeitedDepositsCollected")
        .withArgs(roundId, s.network.address, 2n, 2n * DEPOSIT);
      await expect(collect).to.changeEtherBalances([s.network, s.rounds], [2n * DEPOSIT, -2n * DEPOSIT]);
      await expect(s.rounds.connect(s.network).collectForfeitedDeposits(roundId))
        .to.be.revertedWithCustomError(s.rounds, "ForfeitedDepositsAlreadyCollected")
        .withArgs(roundId);
      await s.rounds.connect(dave).withdrawDeposit(roundId);
      expect(await ethers.provider.getBalance(await s.rounds.getAddress())).to.equal(0n);
    });

    it("judges a round cancelled for too few inclusions by its final publication", async () => {
      const roundId = await openRound(s, programId);
      await contribute(s, roundId, [alice, bob]);
      await closeRound(s, roundId);
      await publish(s, roundId, new Map([[1, Reason.BlobMissing]]));
      await finalize(s, roundId);
      expect((await s.rounds.round(roundId)).cancelReason).to.equal(BigInt(CancelReason.TooFewIncluded));
      await expect(s.rounds.connect(alice).withdrawDeposit(roundId)).to.changeEtherBalance(alice, DEPOSIT);
      await expect(s.rounds.connect(bob).withdrawDeposit(roundId))
        .to.be.revertedWithCustomError(s.rounds, "DepositForfeited")
        .withArgs(roundId, bob.address);
    });

    it("refunds every valid reveal of a round cancelled before any judgement", async () => {
      const roundId = await openRound(s, programId);
      const hashes = await commitAll(s, roundId, [alice, bob]);
      await revealAll(s, roundId, [alice], hashes);
      await closeRound(s, roundId);
      expect((await s.rounds.round(roundId)).cancelReason).to.equal(BigInt(CancelReason.TooFewRevealed));
      await expect(s.rounds.connect(alice).withdrawDeposit(roundId)).to.changeEtherBalance(alice, DEPOSIT);
      await expect(s.rounds.connect(bob).withdrawDeposit(roundId))
        .to.be.revertedWithCustomError(s.rounds, "DepositForfeited")
        .withArgs(roundId, bob.address);
      await expect(s.rounds.connect(s.network).collectForfeitedDeposits(roundId)).to.changeEtherBalance(
        s.network,
        DEPOSIT,
      );
    });

    it("nobody but the network collects forfeits; nobody withdraws another's deposit", async () => {
      const roundId = await openRound(s, programId);
      await contribute(s, roundId, [alice, bob]);
      await closeAndPublish(s, roundId);
      await finalize(s, roundId);
      for (const other of [s.coprocessor, s.custodian, alice]) {
        await expect(s.rounds.connect(other).collectForfeitedDeposits(roundId))
          .to.be.revertedWithCustomError(s.rounds, "NotProgramNetwork")
          .withArgs(programId, other.address);
      }
      await expect(s.rounds.connect(s.coprocessor).withdrawDeposit(roundId))
        .to.be.revertedWithCustomError(s.rounds, "NotACommitter")
        .withArgs(roundId, s.coprocessor.address);
    });

    it("reverts for a round without deposits", async () => {
      const roundId = await openRound(s);
      await expect(s.rounds.connect(alice).withdrawDeposit(roundId))
        .to.be.revertedWithCustomError(s.rounds, "NoCommitDeposit")
        .withArgs(roundId);
      await expect(s.rounds.connect(s.network).collectForfeitedDeposits(roundId))
        .to.be.revertedWithCustomError(s.rounds, "NoCommitDeposit")
        .withArgs(roundId);
    });
  });

  it("reverts reading an unknown round", async () => {
    await expect(s.rounds.round(5n)).to.be.revertedWithCustomError(s.rounds, "RoundNotFound").withArgs(5n);
    await expect(s.rounds.commitments(5n, 0n, 1n))
      .to.be.revertedWithCustomError(s.rounds, "RoundNotFound")
      .withArgs(5n);
  });

  it("reports the reveal phase from the clock, before any transaction", async () => {
    const roundId = await openRound(s);
    expect((await s.rounds.round(roundId)).phase).to.equal(BigInt(Phase.Open));
    await advanceTo((await latestTimestamp()) + BigInt(COMMIT_PERIOD) + 1n);
    expect((await s.rounds.round(roundId)).phase).to.equal(BigInt(Phase.Reveal));
  });
});
