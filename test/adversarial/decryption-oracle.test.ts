// Attack: make the custodian decrypt what it never agreed to serve, or decrypt outputs that can still be shown forged.
// On the contracts before this change, anyone could create a program naming an honest custodian and open rounds
// with it, and nothing on-chain told the custodian when an output had become final.
import { expect } from "chai";
import { ethers } from "hardhat";
import { latestTimestamp } from "@ciphershare/scripts/lib/chain";
import {
  BASE_MODEL_HASH,
  Phase,
  PUBLIC_KEY_HASH,
  closeRound,
  contribute,
  deployScenario,
  finalize,
  openRound,
  publish,
  type Scenario,
} from "../contracts/fixtures";

const RELEASE = ethers.id("release record");

describe("decryption oracle", () => {
  let s: Scenario;

  beforeEach(async () => {
    s = await deployScenario();
  });

  it("a program naming an honest custodian without its acceptance cannot open a round, so it gets nothing decrypted", async () => {
    const [attacker] = s.contributors;
    await s.rounds.connect(attacker).createProgram({
      coprocessor: attacker.address,
      custodian: s.custodian.address,
      payoutToken: await s.token.getAddress(),
      publicKeyHash: PUBLIC_KEY_HASH,
      valuationMethod: 1,
      minContributors: 1,
      maxCommitments: 0,
      recoveryPeriod: 0,
      commitDeposit: 0n,
      kind: 0,
      buyerKeyHash: ethers.ZeroHash,
      termsHash: ethers.ZeroHash,
    });
    const programId = await s.rounds.programCount();
    expect(await s.rounds.hasAccepted(s.programId, s.custodian.address)).to.equal(true, "it serves program 1");
    expect(await s.rounds.isProgramActive(programId)).to.equal(false, "acceptance is per program");
    const deadline = (await latestTimestamp()) + 100n;
    await expect(s.rounds.connect(attacker).openRound(programId, BASE_MODEL_HASH, deadline, 60, 60))
      .to.be.revertedWithCustomError(s.rounds, "ProgramNotActive")
      .withArgs(programId);
    await expect(s.rounds.connect(attacker).acceptProgram(programId))
      .to.be.revertedWithCustomError(s.rounds, "NotProgramCustodian")
      .withArgs(programId, attacker.address);
    expect(await s.rounds.roundCount()).to.equal(
      0n,
      "no round exists whose outputs the custodian could be asked to release",
    );
  });

  it("a round's own coprocessor cannot get a forged output released while it can still be challenged", async () => {
    const [alice, bob] = s.contributors;
    const roundId = await openRound(s);
    await contribute(s, roundId, [alice, bob]);
    await closeRound(s, roundId);
    // The coprocessor publishes, as "aggregate", the hash of something else (e.g. a victim's relabelled input).
    await publish(s, roundId, new Map(), { aggregate: ethers.id("victim input"), scores: ethers.id("scores") });
    await expect(s.rounds.connect(s.custodian).anchorRelease(roundId, RELEASE))
      .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
      .withArgs(roundId, Phase.ResultsPublished, Phase.Finalized);
    await s.rounds.connect(s.auditor).challengeResults(roundId, ethers.id("recomputed aggregate"), "ipfs://evidence");
    await expect(s.rounds.connect(s.custodian).anchorRelease(roundId, RELEASE))
      .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
      .withArgs(roundId, Phase.Challenged, Phase.Finalized);
    await s.rounds.connect(s.network).resolveChallenge(roundId, true);
    expect((await s.rounds.round(roundId)).aggregateHash).to.equal(
      ethers.ZeroHash,
      "the forged output no longer stands",
    );

    const honest = ethers.id("recomputed aggregate");
    await publish(s, roundId, new Map(), { aggregate: honest, scores: ethers.id("scores") });
    await finalize(s, roundId);
    const round = await s.rounds.round(roundId);
    expect([round.publication, round.aggregateHash]).to.deep.equal([2n, honest]);
    await expect(s.rounds.connect(s.custodian).anchorRelease(roundId, RELEASE))
      .to.emit(s.rounds, "ReleaseAnchored")
      .withArgs(roundId, 2n, RELEASE);
  });

  it("nobody but the program's custodian anchors a release, and a cancelled round never gets one", async () => {
    const [alice] = s.contributors;
    const roundId = await openRound(s);
    await contribute(s, roundId, [alice]);
    await closeRound(s, roundId);
    await publish(s, roundId);
    await finalize(s, roundId);
    for (const impostor of [s.coprocessor, s.network, alice]) {
      await expect(s.rounds.connect(impostor).anchorRelease(roundId, RELEASE))
        .to.be.revertedWithCustomError(s.rounds, "NotProgramCustodian")
        .withArgs(s.programId, impostor.address);
    }
    const cancelled = await openRound(s);
    await closeRound(s, cancelled);
    await expect(s.rounds.connect(s.custodian).anchorRelease(cancelled, RELEASE))
      .to.be.revertedWithCustomError(s.rounds, "RoundWrongPhase")
      .withArgs(cancelled, Phase.Cancelled, Phase.Finalized);
  });
});
