// Attack: settle a round's pool with shares that t members did not all compute — a forged proposal, a member
// confirming twice or its own proposal, a confirmation replaying the proposer's ciphertexts, an execution without
// the KMS's proof of agreement, or with other contributors than proposed. Liveness: a silent proposer's turn is taken
// by another member, and a late duplicate proposal settles nobody twice.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { fhevm } from "hardhat";
import { encryptShares } from "@ciphershare/scripts/lib/chain";
import { fundPool } from "../contracts/fixtures";
import {
  agreementProof,
  ascending,
  confirm,
  deployCommitteeScenario,
  encryptForCommittee,
  finalizedCommitteeRound,
  propose,
  releaseBy,
  type CommitteeScenario,
} from "../contracts/committee/fixtures";

describe("committee settlement", () => {
  let c: CommitteeScenario;
  let roundId: bigint;
  let m1: HardhatEthersSigner, m2: HardhatEthersSigner, m3: HardhatEthersSigner;
  let contributors: string[];
  const HONEST = [60n, 40n];

  beforeEach(async () => {
    c = await deployCommitteeScenario();
    [m1, m2, m3] = c.members;
    roundId = await finalizedCommitteeRound(c);
    contributors = c.contributors.slice(0, 2).map((s) => s.address);
    await fundPool(c, roundId, 100n);
    await releaseBy(c, roundId, [m1, m2]);
  });

  it("a non-member can neither propose nor confirm", async () => {
    await expect(propose(c, roundId, c.stranger, contributors, HONEST))
      .to.be.revertedWithCustomError(c.committee, "NotCommitteeMember")
      .withArgs(c.committeeProgram, c.stranger.address);
    const proposalId = await propose(c, roundId, m1, contributors, HONEST);
    await expect(confirm(c, proposalId, c.stranger, HONEST))
      .to.be.revertedWithCustomError(c.committee, "NotCommitteeMember")
      .withArgs(c.committeeProgram, c.stranger.address);
  });

  it("a proposer cannot confirm its own proposal, and a member cannot confirm twice", async () => {
    const proposalId = await propose(c, roundId, m1, contributors, HONEST);
    await expect(confirm(c, proposalId, m1, HONEST))
      .to.be.revertedWithCustomError(c.committee, "ProposerCannotConfirm")
      .withArgs(proposalId, m1.address);
    await confirm(c, proposalId, m2, HONEST);
    await expect(confirm(c, proposalId, m2, HONEST))
      .to.be.revertedWithCustomError(c.committee, "AlreadyConfirmed")
      .withArgs(proposalId, m2.address);
  });

  it("a forged proposal cannot be executed: the honest confirmation disagrees and no proof says otherwise", async () => {
    const forged = await propose(c, roundId, m1, contributors, [90n, 10n]);
    const agreed = await confirm(c, forged, m2, HONEST);
    expect(await fhevm.publicDecryptEbool(agreed)).to.equal(false);
    const { decryptionProof } = await agreementProof(c, forged, [m2.address]);
    await expect(c.committee.executeSettlement(forged, contributors, [m2.address], decryptionProof)).to.be.reverted;
    expect(await c.distributor.settledCount(roundId)).to.equal(0n, "the contributors stay unsettled");

    // The honest member's own proposal, confirmed by the third member, settles the same contributors.
    const honest = await propose(c, roundId, m2, contributors, HONEST);
    await confirm(c, honest, m3, HONEST);
    const proof = await agreementProof(c, honest, [m3.address]);
    await c.committee.executeSettlement(honest, contributors, [m3.address], proof.decryptionProof);
    expect(await c.distributor.settledCount(roundId)).to.equal(2n);
  });

  it("a member cannot confirm by replaying the proposer's ciphertexts: inputs are bound to who encrypted them", async () => {
    const encrypted = await encryptForCommittee(c, m1, HONEST);
    await c.committee.connect(m1).proposeSettlement(roundId, contributors, encrypted.handles, encrypted.inputProofs);
    const proposalId = await c.committee.proposalCount();
    await expect(c.committee.connect(m2).confirmSettlement(proposalId, encrypted.handles, encrypted.inputProofs)).to.be
      .reverted;
    expect(await c.committee.agreementOf(proposalId, m2.address)).to.equal(0n);
  });

  it("execution needs exactly t - 1 distinct confirmers that confirmed, the proposal's contributors, and runs once", async () => {
    const proposalId = await propose(c, roundId, m1, contributors, HONEST);
    await expect(c.committee.executeSettlement(proposalId, contributors, [], "0x"))
      .to.be.revertedWithCustomError(c.committee, "WrongConfirmationCount")
      .withArgs(1, 0);
    await expect(c.committee.executeSettlement(proposalId, contributors, [m3.address], "0x"))
      .to.be.revertedWithCustomError(c.committee, "InvalidConfirmer")
      .withArgs(proposalId, 0, m3.address);
    await confirm(c, proposalId, m2, HONEST);
    await confirm(c, proposalId, m3, HONEST);
    const { decryptionProof } = await agreementProof(c, proposalId, [m2.address]);
    await expect(c.committee.executeSettlement(proposalId, [...contributors].reverse(), [m2.address], decryptionProof))
      .to.be.revertedWithCustomError(c.committee, "ProposalContributorsMismatch")
      .withArgs(proposalId);
    await c.committee.executeSettlement(proposalId, contributors, [m2.address], decryptionProof);
    await expect(c.committee.executeSettlement(proposalId, contributors, [m2.address], decryptionProof))
      .to.be.revertedWithCustomError(c.committee, "ProposalAlreadyExecuted")
      .withArgs(proposalId);
    await expect(confirm(c, proposalId, m3, HONEST))
      .to.be.revertedWithCustomError(c.committee, "ProposalAlreadyExecuted")
      .withArgs(proposalId);
  });

  it("a 3-of-3 committee needs both other members' agreements, in ascending order, each proven true", async () => {
    const c3 = await deployCommitteeScenario({ threshold: 3 });
    const [a, b, d] = c3.members;
    const round = await finalizedCommitteeRound(c3);
    await fundPool(c3, round, 100n);
    await releaseBy(c3, round, [a, b, d]);
    const who = c3.contributors.slice(0, 2).map((s) => s.address);
    const proposalId = await propose(c3, round, a, who, HONEST);
    await confirm(c3, proposalId, b, HONEST);
    await confirm(c3, proposalId, d, [60n, 41n]);
    const confirmers = ascending([b.address, d.address]);
    const { decryptionProof } = await agreementProof(c3, proposalId, confirmers);
    await expect(c3.committee.executeSettlement(proposalId, who, confirmers, decryptionProof)).to.be.reverted;
    await expect(c3.committee.executeSettlement(proposalId, who, [...confirmers].reverse(), decryptionProof))
      .to.be.revertedWithCustomError(c3.committee, "InvalidConfirmer")
      .withArgs(proposalId, 1, confirmers[0]);
    expect(await c3.distributor.settledCount(round)).to.equal(0n);
  });

  it("the proposer down: another member proposes, the third confirms, anyone executes; a late duplicate settles nothing twice", async () => {
    // m1 (the set's lowest, the usual proposer) is down: m2 takes over its turn (committee-member.ts,
    // SETTLEMENT_TURN_SECONDS) and m3, outside the decrypting set, confirms with the shares it computed itself.
    const proposalId = await propose(c, roundId, m2, contributors, HONEST);
    await confirm(c, proposalId, m3, HONEST);
    const { decryptionProof } = await agreementProof(c, proposalId, [m3.address]);
    await c.committee.connect(c.stranger).executeSettlement(proposalId, contributors, [m3.address], decryptionProof);
    expect(await c.distributor.settledCount(roundId)).to.equal(BigInt(contributors.length));
    // m1 comes back and, not having seen the takeover, proposes the same batch: m2 confirms, but the distributor
    // refuses to settle the contributors a second time.
    const late = await propose(c, roundId, m1, contributors, HONEST);
    await confirm(c, late, m2, HONEST);
    const proof = await agreementProof(c, late, [m2.address]);
    await expect(c.committee.executeSettlement(late, contributors, [m2.address], proof.decryptionProof)).to.be.reverted;
    expect(await c.distributor.settledCount(roundId)).to.equal(BigInt(contributors.length));
  });

  it("a member cannot settle on the distributor directly, bypassing the committee", async () => {
    const encrypted = await encryptShares(await c.distributor.getAddress(), m1.address, HONEST);
    await expect(c.distributor.connect(m1).settle(roundId, contributors, encrypted.handles, encrypted.inputProofs))
      .to.be.revertedWithCustomError(c.distributor, "NotProgramCustodian")
      .withArgs(c.committeeProgram, m1.address);
  });
});
