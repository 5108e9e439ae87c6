// Attack: get a round's outputs released (anchored) by fewer than t committee members, before the round is final,
// by someone outside the decrypting set, or with a release record the decrypting set did not all combine.
import { expect } from "chai";
import { ethers } from "hardhat";
import { closeAndPublish, contribute, openRound, Phase } from "../contracts/fixtures";
import {
  RELEASE,
  SHARE_HASHES,
  deployCommitteeScenario,
  finalizedCommitteeRound,
  releaseBy,
  type CommitteeScenario,
} from "../contracts/committee/fixtures";

describe("committee release", () => {
  let c: CommitteeScenario;
  let roundId: bigint;

  beforeEach(async () => {
    c = await deployCommitteeScenario();
    roundId = await finalizedCommitteeRound(c);
  });

  const anchored = async () => (await c.rounds.round(roundId)).releaseHash;

  it("a non-member cannot join, submit shares or approve a release", async () => {
    const program = c.committeeProgram;
    await expect(c.committee.connect(c.stranger).joinRelease(roundId))
      .to.be.revertedWithCustomError(c.committee, "NotCommitteeMember")
      .withArgs(program, c.stranger.address);
    await expect(c.committee.connect(c.stranger).submitDecryptionShares(roundId, SHARE_HASHES(9)))
      .to.be.revertedWithCustomError(c.committee, "NotCommitteeMember")
      .withArgs(program, c.stranger.address);
    await expect(c.committee.connect(c.stranger).approveRelease(roundId, RELEASE))
      .to.be.revertedWithCustomError(c.committee, "NotCommitteeMember")
      .withArgs(program, c.stranger.address);
  });

  it("nothing is released while the published outputs can still be challenged", async () => {
    const pending = await openRound(c, c.committeeProgram);
    await contribute(c, pending, c.contributors.slice(0, 2));
    await closeAndPublish(c, pending);
    await expect(c.committee.connect(c.members[0]).joinRelease(pending))
      .to.be.revertedWithCustomError(c.committee, "RoundNotFinalized")
      .withArgs(pending, Phase.ResultsPublished);
  });

  it("fewer than t members anchor nothing: one member alone can neither publish shares nor approve", async () => {
    const [m1] = c.members;
    await c.committee.connect(m1).joinRelease(roundId);
    await expect(c.committee.connect(m1).submitDecryptionShares(roundId, SHARE_HASHES(1)))
      .to.be.revertedWithCustomError(c.committee, "DecryptingSetIncomplete")
      .withArgs(roundId, 1, 2);
    await expect(c.committee.connect(m1).approveRelease(roundId, RELEASE))
      .to.be.revertedWithCustomError(c.committee, "DecryptionSharesIncomplete")
      .withArgs(roundId, 0, 2);
    expect(await anchored()).to.equal(ethers.ZeroHash);
  });

  it("t - 1 shares in anchor nothing: the set's last member must publish its share before anyone approves", async () => {
    const [m1, m2] = c.members;
    await c.committee.connect(m1).joinRelease(roundId);
    await c.committee.connect(m2).joinRelease(roundId);
    await c.committee.connect(m1).submitDecryptionShares(roundId, SHARE_HASHES(1));
    await expect(c.committee.connect(m1).approveRelease(roundId, RELEASE))
      .to.be.revertedWithCustomError(c.committee, "DecryptionSharesIncomplete")
      .withArgs(roundId, 1, 2);
    expect(await anchored()).to.equal(ethers.ZeroHash);
  });

  it("a member outside the decrypting set cannot join late or publish shares, nor approve before the set's shares are in", async () => {
    const [m1, m2, m3] = c.members;
    await c.committee.connect(m1).joinRelease(roundId);
    await c.committee.connect(m2).joinRelease(roundId);
    await expect(c.committee.connect(m3).joinRelease(roundId))
      .to.be.revertedWithCustomError(c.committee, "DecryptingSetFull")
      .withArgs(roundId);
    await expect(c.committee.connect(m3).submitDecryptionShares(roundId, SHARE_HASHES(3)))
      .to.be.revertedWithCustomError(c.committee, "NotInDecryptingSet")
      .withArgs(roundId, 3);
    // Any non-silent member may approve once the set's t shares are on-chain (so a silent set member cannot stall
    // the release); before that, nobody can.
    await expect(c.committee.connect(m3).approveRelease(roundId, RELEASE))
      .to.be.revertedWithCustomError(c.committee, "DecryptionSharesIncomplete")
      .withArgs(roundId, 0, 2);
  });

  it("a member cannot join, publish or approve twice (and so count for two)", async () => {
    const [m1, m2] = c.members;
    await c.committee.connect(m1).joinRelease(roundId);
    await expect(c.committee.connect(m1).joinRelease(roundId))
      .to.be.revertedWithCustomError(c.committee, "AlreadyJoined")
      .withArgs(roundId, 1);
    await c.committee.connect(m2).joinRelease(roundId);
    await c.committee.connect(m1).submitDecryptionShares(roundId, SHARE_HASHES(1));
    await expect(c.committee.connect(m1).submitDecryptionShares(roundId, SHARE_HASHES(1)))
      .to.be.revertedWithCustomError(c.committee, "SharesAlreadySubmitted")
      .withArgs(roundId, 1);
    await c.committee.connect(m2).submitDecryptionShares(roundId, SHARE_HASHES(2));
    await c.committee.connect(m1).approveRelease(roundId, RELEASE);
    await expect(c.committee.connect(m1).approveRelease(roundId, RELEASE))
      .to.be.revertedWithCustomError(c.committee, "ReleaseAlreadyApproved")
      .withArgs(roundId, 1);
    expect(await anchored()).to.equal(ethers.ZeroHash);
  });

  it("a forged release record approved first by one member is never anchored: the honest member's record differs", async () => {
    const [m1, m2] = c.members;
    await c.committee.connect(m1).joinRelease(roundId);
    await c.committee.connect(m2).joinRelease(roundId);
    await c.committee.connect(m1).submitDecryptionShares(roundId, SHARE_HASHES(1));
    await c.committee.connect(m2).submitDecryptionShares(roundId, SHARE_HASHES(2));
    const forged = ethers.id("a release record with other phi");
    await c.committee.connect(m1).approveRelease(roundId, forged);
    await expect(c.committee.connect(m2).approveRelease(roundId, RELEASE))
      .to.be.revertedWithCustomError(c.committee, "ReleaseHashMismatch")
      .withArgs(roundId, forged, RELEASE);
    expect(await anchored()).to.equal(ethers.ZeroHash);
  });

  it("shares must name every output, none zero; after the anchor nobody reopens the release", async () => {
    const [m1, m2, m3] = c.members;
    await c.committee.connect(m1).joinRelease(roundId);
    await c.committee.connect(m2).joinRelease(roundId);
    await expect(c.committee.connect(m1).submitDecryptionShares(roundId, [SHARE_HASHES(1)[0]]))
      .to.be.revertedWithCustomError(c.committee, "WrongShareCount")
      .withArgs(2, 1);
    await expect(c.committee.connect(m1).submitDecryptionShares(roundId, [SHARE_HASHES(1)[0], ethers.ZeroHash]))
      .to.be.revertedWithCustomError(c.committee, "ZeroShareHash")
      .withArgs(1);
    await expect(c.committee.connect(m1).approveRelease(roundId, ethers.ZeroHash)).to.be.revertedWithCustomError(
      c.committee,
      "ZeroReleaseHash",
    );
    const other = await finalizedCommitteeRound(c);
    await releaseBy(c, other, [m1, m3]);
    await expect(c.committee.connect(m2).joinRelease(other))
      .to.be.revertedWithCustomError(c.committee, "ReleaseAlreadyAnchored")
      .withArgs(other, RELEASE);
  });
});
