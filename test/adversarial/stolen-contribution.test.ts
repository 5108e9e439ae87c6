// Attack: be paid for someone else's work by committing a copy of its contribution. On the contracts before this
// change, a thief could commit the very ciphertext hash another contributor had just committed (or had committed in
// an earlier round): both were included and earned the same φ.
import { expect } from "chai";
import { ethers } from "hardhat";
import { CommitmentStatus, encryptShares, inputsHashOf, publicationOf, sealOf } from "@ciphershare/scripts/lib/chain";
import {
  Phase,
  Reason,
  STORE_URI,
  closeRound,
  commitAll,
  createProgram,
  deployScenario,
  finalize,
  fundPool,
  openRound,
  publish,
  revealAll,
  startReveal,
  type Scenario,
} from "../contracts/fixtures";

const DEPOSIT = 10n ** 16n;

describe("stolen contribution", () => {
  let s: Scenario;
  let programId: bigint;

  beforeEach(async () => {
    s = await deployScenario();
    programId = await createProgram(s, { minContributors: 1, commitDeposit: DEPOSIT });
  });

  /** The coprocessor may not include `index`: publishing it as included reverts naming its on-chain status. */
  const expectCannotInclude = async (roundId: bigint, index: number, status: CommitmentStatus) => {
    const honest = await publicationOf(s.rounds, roundId);
    const reasons = ethers.getBytes(honest.reasons);
    const forged = Uint8Array.from(reasons, (reason, i) => (i === index ? Reason.None : reason));
    const commitments = await s.rounds.commitments(roundId, 0n, 100n);
    const included = commitments.filter((_, i) => forged[i] === Reason.None).map((c) => c.ciphertextHash);
    await expect(
      s.rounds
        .connect(s.coprocessor)
        .publishResults(roundId, ethers.id("aggregate"), ethers.id("scores"), inputsHashOf(included), forged),
    )
      .to.be.revertedWithCustomError(s.rounds, "InvalidExclusionReason")
      .withArgs(roundId, index, Reason.None, status);
  };

  /** After the honest publication and finalization: `thief` cannot be settled, and its deposit is forfeited. */
  const expectNeverPaid = async (roundId: bigint, thief: string) => {
    await publish(s, roundId);
    await finalize(s, roundId);
    expect(await s.rounds.isIncluded(roundId, thief)).to.equal(false);
    await fundPool(s, roundId, 100n);
    const encrypted = await encryptShares(await s.distributor.getAddress(), s.custodian.address, [50n]);
    await expect(s.distributor.connect(s.custodian).settle(roundId, [thief], encrypted.handles, encrypted.inputProofs))
      .to.be.revertedWithCustomError(s.distributor, "ContributorNotIncluded")
      .withArgs(roundId, thief);
    expect(await s.rounds.isDepositRefundable(roundId, thief)).to.equal(false);
  };

  it("a copy of the victim's commitment made during the commit phase can never be revealed, included or paid", async () => {
    const [victim, thief] = s.contributors;
    const roundId = await openRound(s, programId);
    const [victimHash] = await commitAll(s, roundId, [victim]);
    // All the thief sees during the commit phase is the victim's seal; the ciphertext is not uploaded yet.
    const [committed] = await s.rounds.queryFilter(s.rounds.filters.ContributionCommitted(roundId, victim.address));
    expect(committed.args.seal).to.not.equal(victimHash);
    await expect(s.rounds.connect(victim).revealContribution(roundId, victimHash, STORE_URI))
      .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
      .withArgs(roundId, Phase.Open, Phase.Reveal);
    await s.rounds.connect(thief).register("");
    await s.rounds.connect(thief).commitContribution(roundId, committed.args.seal, 100, { value: DEPOSIT });

    // Once the victim reveals, its hash is public, but it does not open the thief's copy of the seal.
    await revealAll(s, roundId, [victim], [victimHash]);
    await expect(s.rounds.connect(thief).revealContribution(roundId, victimHash, STORE_URI))
      .to.be.revertedWithCustomError(s.rounds, "SealMismatch")
      .withArgs(roundId, thief.address, victimHash);
    await closeRound(s, roundId);
    expect((await s.rounds.commitmentAt(roundId, 1n)).status).to.equal(BigInt(CommitmentStatus.Sealed));
    await expectCannotInclude(roundId, 1, CommitmentStatus.Sealed);
    await expectNeverPaid(roundId, thief.address);
    expect(await s.rounds.isIncluded(roundId, victim.address)).to.equal(true);
  });

  it("a ciphertext hash revealed in an earlier round, of any program, is a Duplicate: never included or paid", async () => {
    const [victim, thief] = s.contributors;
    const earlier = await openRound(s);
    const [victimHash] = await commitAll(s, earlier, [victim]);
    await revealAll(s, earlier, [victim], [victimHash]);

    const honest = s.contributors[2];
    const roundId = await openRound(s, programId);
    const [, honestHash] = await commitAll(s, roundId, [thief, honest], [victimHash, ethers.id("honest update")]);
    await startReveal(s, roundId);
    await expect(s.rounds.connect(thief).revealContribution(roundId, victimHash, STORE_URI))
      .to.emit(s.rounds, "DuplicateRevealed")
      .withArgs(roundId, 0n, victimHash, earlier, 0n);
    await s.rounds.connect(honest).revealContribution(roundId, honestHash, STORE_URI);
    await closeRound(s, roundId);
    await expectCannotInclude(roundId, 0, CommitmentStatus.Duplicate);
    await expectNeverPaid(roundId, thief.address);
  });

  it("two seals of one hash in the same round (a leaked ciphertext): the first reveal stands, the copy is a Duplicate", async () => {
    const [victim, thief] = s.contributors;
    const roundId = await openRound(s, programId);
    const shared = ethers.id("leaked ciphertext");
    await commitAll(s, roundId, [thief, victim], [shared, shared]);
    await startReveal(s, roundId);
    await s.rounds.connect(victim).revealContribution(roundId, shared, STORE_URI);
    await s.rounds.connect(thief).revealContribution(roundId, shared, STORE_URI);
    expect(await s.rounds.firstRevealOf(shared)).to.deep.equal([roundId, 1n]);
    await closeRound(s, roundId);
    await expectCannotInclude(roundId, 0, CommitmentStatus.Duplicate);
    await expectNeverPaid(roundId, thief.address);
    expect(await s.rounds.isIncluded(roundId, victim.address)).to.equal(true);
  });

  it("a thief cannot reveal with the victim's seal even by front-running the victim's reveal", async () => {
    const [victim, thief] = s.contributors;
    const roundId = await openRound(s, programId);
    const [victimHash] = await commitAll(s, roundId, [victim]);
    await s.rounds.connect(thief).register("");
    await s.rounds
      .connect(thief)
      .commitContribution(roundId, sealOf(victimHash, victim.address), 1, { value: DEPOSIT });
    await startReveal(s, roundId);
    // Even knowing the hash first, the seal opens only for the address it was made for.
    await expect(s.rounds.connect(thief).revealContribution(roundId, victimHash, STORE_URI))
      .to.be.revertedWithCustomError(s.rounds, "SealMismatch")
      .withArgs(roundId, thief.address, victimHash);
    await s.rounds.connect(victim).revealContribution(roundId, victimHash, STORE_URI);
    expect((await s.rounds.commitmentAt(roundId, 0n)).status).to.equal(BigInt(CommitmentStatus.Revealed));
  });
});
