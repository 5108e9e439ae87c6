// Attack: take over or bypass a custodian committee's custody — register a committee for someone else's program,
// swap the members after the fact, accept with a share the dealer did not record, or act on the hub as the
// committee without t members.
import { expect } from "chai";
import { ethers } from "hardhat";
import { BASE_MODEL_HASH } from "../contracts/fixtures";
import { latestTimestamp } from "@ciphershare/scripts/lib/chain";
import {
  RELEASE,
  createCommitteeProgram,
  deployCommitteeScenario,
  finalizedCommitteeRound,
  type CommitteeScenario,
} from "../contracts/committee/fixtures";

describe("committee custody", () => {
  let c: CommitteeScenario;

  beforeEach(async () => {
    c = await deployCommitteeScenario({ accept: false });
  });

  it("a stranger cannot register (or re-register) the committee of a program it did not create", async () => {
    const programId = await createCommitteeProgram(c, c.committeeAddress);
    await expect(
      c.committee.connect(c.stranger).registerCommittee(programId, [c.stranger.address], 1, [ethers.id("mine")]),
    )
      .to.be.revertedWithCustomError(c.committee, "NotProgramNetwork")
      .withArgs(programId, c.stranger.address);
    await expect(
      c.committee
        .connect(c.network)
        .registerCommittee(c.committeeProgram, [c.network.address], 1, [ethers.id("network's own share")]),
    )
      .to.be.revertedWithCustomError(c.committee, "CommitteeAlreadyRegistered")
      .withArgs(c.committeeProgram);
  });

  it("a network cannot give the committee's powers over a program whose custodian is someone else", async () => {
    await expect(
      c.committee.connect(c.network).registerCommittee(c.programId, [c.network.address], 1, [ethers.id("share")]),
    )
      .to.be.revertedWithCustomError(c.committee, "NotCommitteeCustodian")
      .withArgs(c.programId, c.custodian.address);
  });

  it("a non-member cannot accept, a member cannot accept another share than the dealer recorded, nor twice", async () => {
    const [m1] = c.members;
    await expect(c.committee.connect(c.stranger).acceptProgramShare(c.committeeProgram, c.shareCommitments[0]))
      .to.be.revertedWithCustomError(c.committee, "NotCommitteeMember")
      .withArgs(c.committeeProgram, c.stranger.address);
    const forged = ethers.id("a share the dealer kept a copy of");
    await expect(c.committee.connect(m1).acceptProgramShare(c.committeeProgram, forged))
      .to.be.revertedWithCustomError(c.committee, "ShareCommitmentMismatch")
      .withArgs(c.committeeProgram, m1.address, c.shareCommitments[0], forged);
    await c.committee.connect(m1).acceptProgramShare(c.committeeProgram, c.shareCommitments[0]);
    await expect(c.committee.connect(m1).acceptProgramShare(c.committeeProgram, c.shareCommitments[0]))
      .to.be.revertedWithCustomError(c.committee, "ShareAlreadyAccepted")
      .withArgs(c.committeeProgram, m1.address);
  });

  it("until every member accepted, no round opens, so nothing is ever asked of the committee", async () => {
    const [m1, m2] = c.members;
    await c.committee.connect(m1).acceptProgramShare(c.committeeProgram, c.shareCommitments[0]);
    await c.committee.connect(m2).acceptProgramShare(c.committeeProgram, c.shareCommitments[1]);
    const deadline = (await latestTimestamp()) + 100n;
    await expect(c.rounds.connect(c.network).openRound(c.committeeProgram, BASE_MODEL_HASH, deadline, 60, 60))
      .to.be.revertedWithCustomError(c.rounds, "ProgramNotActive")
      .withArgs(c.committeeProgram);
  });

  it("no member can act on the hub as the custodian by itself: accept the program or anchor a release", async () => {
    const [m1, m2, m3] = c.members;
    await expect(c.rounds.connect(m1).acceptProgram(c.committeeProgram))
      .to.be.revertedWithCustomError(c.rounds, "NotProgramCustodian")
      .withArgs(c.committeeProgram, m1.address);
    for (const [i, m] of [m1, m2, m3].entries()) {
      await c.committee.connect(m).acceptProgramShare(c.committeeProgram, c.shareCommitments[i]);
    }
    const roundId = await finalizedCommitteeRound(c);
    await expect(c.rounds.connect(m1).anchorRelease(roundId, RELEASE))
      .to.be.revertedWithCustomError(c.rounds, "NotProgramCustodian")
      .withArgs(c.committeeProgram, m1.address);
    await expect(c.distributor.connect(m1).completeSettlement(roundId))
      .to.be.revertedWithCustomError(c.distributor, "NotProgramCustodian")
      .withArgs(c.committeeProgram, m1.address);
  });
});
