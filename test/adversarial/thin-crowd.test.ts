// Attack: learn one contributor's update from the released global model by making it (nearly) the only one in its
// round. On the contracts before this change, a round with a single included contribution finalized like any other,
// and the custodian released its "aggregate": that contributor's model update.
import { expect } from "chai";
import { ethers } from "hardhat";
import { encryptShares } from "@ciphershare/scripts/lib/chain";
import {
  CancelReason,
  Phase,
  Reason,
  closeRound,
  commitAll,
  contribute,
  createProgram,
  deployScenario,
  finalize,
  fundPool,
  openRound,
  publish,
  revealAll,
  type Scenario,
} from "../contracts/fixtures";

describe("thin crowd", () => {
  let s: Scenario;
  let programId: bigint;

  beforeEach(async () => {
    s = await deployScenario();
    // A program that asks for 0 gets the default minimum of 3 included contributions.
    programId = await createProgram(s, { minContributors: 0 });
    expect((await s.rounds.program(programId)).minContributors).to.equal(3n);
  });

  it("a round where the coprocessor includes fewer than the minimum is cancelled: no output counts, nothing is paid", async () => {
    const [victim, a, b] = s.contributors;
    const roundId = await openRound(s, programId);
    await contribute(s, roundId, [victim, a, b]);
    await closeRound(s, roundId);
    // Everyone but the victim excluded: the "aggregate" would be the victim's own update.
    await publish(
      s,
      roundId,
      new Map([
        [1, Reason.Malformed],
        [2, Reason.Malformed],
      ]),
    );
    await finalize(s, roundId);
    const round = await s.rounds.round(roundId);
    expect([round.phase, round.cancelReason]).to.deep.equal([
      BigInt(Phase.Cancelled),
      BigInt(CancelReason.TooFewIncluded),
    ]);
    await expect(s.rounds.connect(s.custodian).anchorRelease(roundId, ethers.id("release")))
      .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
      .withArgs(roundId, Phase.Cancelled, Phase.Finalized);
    await expect(fundPool(s, roundId, 100n))
      .to.be.revertedWithCustomError(s.distributor, "PoolClosed")
      .withArgs(roundId);
    const encrypted = await encryptShares(await s.distributor.getAddress(), s.custodian.address, [1n]);
    await expect(
      s.distributor.connect(s.custodian).settle(roundId, [victim.address], encrypted.handles, encrypted.inputProofs),
    )
      .to.be.revertedWithCustomError(s.distributor, "RoundNotFinalized")
      .withArgs(roundId, Phase.Cancelled);
  });

  it("the cancellation goes through the dispute window, so a coprocessor cannot cancel a round by false exclusions", async () => {
    const [a, b, c] = s.contributors;
    const roundId = await openRound(s, programId);
    await contribute(s, roundId, [a, b, c]);
    await closeRound(s, roundId);
    await publish(s, roundId, new Map([[2, Reason.BlobMissing]]));
    expect((await s.rounds.round(roundId)).phase).to.equal(BigInt(Phase.ResultsPublished));
    await s.rounds.connect(s.auditor).challengeResults(roundId, ethers.id("c's blob is there"), "");
    await s.rounds.connect(s.network).resolveChallenge(roundId, true);
    await publish(s, roundId);
    await finalize(s, roundId);
    expect((await s.rounds.round(roundId)).phase).to.equal(BigInt(Phase.Finalized));
  });

  it("a round with fewer reveals than the minimum is cancelled at close, before any computation", async () => {
    const [a, b, c] = s.contributors;
    const roundId = await openRound(s, programId);
    const hashes = await commitAll(s, roundId, [a, b, c]);
    await revealAll(s, roundId, [a, b], hashes);
    await closeRound(s, roundId);
    expect((await s.rounds.round(roundId)).cancelReason).to.equal(BigInt(CancelReason.TooFewRevealed));
    await expect(
      s.rounds
        .connect(s.coprocessor)
        .publishResults(roundId, ethers.id("aggregate"), ethers.id("scores"), ethers.ZeroHash, "0x000006"),
    )
      .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
      .withArgs(roundId, Phase.Cancelled, Phase.Closed);
  });
});
