// Attack: keep a discarded publication's verdicts alive. On the contracts before this change, publications had no
// number: an off-chain reader could not tell the exclusion events of a discarded publication from those of the one
// that replaced it, and upholding a challenge cleared exclusions in a loop over every commitment of the round.
import { expect } from "chai";
import { ethers } from "hardhat";
import { encryptShares, impersonatedSigners } from "@ciphershare/scripts/lib/chain";
import {
  Reason,
  closeRound,
  contribute,
  deployScenario,
  finalize,
  fundPool,
  openRound,
  publish,
  type Scenario,
} from "../contracts/fixtures";

const EVIDENCE = ethers.id("recomputed outputs differ");

describe("dead challenge path", () => {
  let s: Scenario;

  beforeEach(async () => {
    s = await deployScenario();
  });

  const uphold = async (roundId: bigint) => {
    await s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, "ipfs://evidence");
    await s.rounds.connect(s.network).resolveChallenge(roundId, true);
  };

  it("after an upheld challenge the coprocessor publishes again and only the latest publication counts", async () => {
    const [alice, bob, carol] = s.contributors;
    const roundId = await openRound(s);
    await contribute(s, roundId, [alice, bob, carol]);
    await closeRound(s, roundId);
    // Publication 1 wrongly excludes bob and wrongly includes carol (whose blob is malformed).
    await publish(s, roundId, new Map([[1, Reason.BlobMissing]]), {
      aggregate: ethers.id("forged"),
      scores: ethers.id("forged scores"),
    });
    await uphold(roundId);
    await publish(s, roundId, new Map([[2, Reason.Malformed]]));
    await finalize(s, roundId);

    expect(await s.rounds.isIncluded(roundId, bob.address)).to.equal(true);
    expect(await s.rounds.exclusionOf(roundId, bob.address)).to.equal(BigInt(Reason.None));
    expect(await s.rounds.isIncluded(roundId, carol.address)).to.equal(false);
    const round = await s.rounds.round(roundId);
    expect([round.publication, round.publicationCount, round.aggregateHash]).to.deep.equal([
      2n,
      2n,
      ethers.id("aggregate"),
    ]);

    // What the custodian settles follows the latest publication: bob can be paid, carol cannot.
    await fundPool(s, roundId, 100n);
    const distributor = await s.distributor.getAddress();
    const paid = await encryptShares(distributor, s.custodian.address, [60n, 40n]);
    await s.distributor
      .connect(s.custodian)
      .settle(roundId, [alice.address, bob.address], paid.handles, paid.inputProofs);
    const forged = await encryptShares(distributor, s.custodian.address, [1n]);
    await expect(
      s.distributor.connect(s.custodian).settle(roundId, [carol.address], forged.handles, forged.inputProofs),
    )
      .to.be.revertedWithCustomError(s.distributor, "ContributorNotIncluded")
      .withArgs(roundId, carol.address);
  });

  it("events let a reader tell publications apart and keep the final one's verdicts", async () => {
    const [alice, bob] = s.contributors;
    const roundId = await openRound(s);
    await contribute(s, roundId, [alice, bob]);
    await closeRound(s, roundId);
    await publish(s, roundId, new Map([[1, Reason.HashMismatch]]));
    await uphold(roundId);
    await publish(s, roundId);
    await finalize(s, roundId);

    const published = await s.rounds.queryFilter(s.rounds.filters.ResultsPublished(roundId));
    expect(published.map((e) => e.args.publication)).to.deep.equal([1n, 2n]);
    const [resolved] = await s.rounds.queryFilter(s.rounds.filters.ChallengeResolved(roundId));
    expect([resolved.args.publication, resolved.args.upheld]).to.deep.equal([1n, true]);
    const [finalized] = await s.rounds.queryFilter(s.rounds.filters.RoundFinalized(roundId));
    const standing = published.find((e) => e.args.publication === finalized.args.publication)!;
    expect(ethers.getBytes(standing.args.reasons)).to.deep.equal(Uint8Array.from([0, 0]));
    expect(await s.rounds.exclusionReasons(roundId, 1n)).to.equal(
      ethers.hexlify(Uint8Array.from([0, Reason.HashMismatch])),
      "the discarded publication stays readable by number",
    );
  });

  it("upholding a challenge costs the same whatever the round's size", async () => {
    const resolveGas = async (size: number, seed: number) => {
      const roundId = await openRound(s);
      await contribute(s, roundId, await impersonatedSigners(size, seed));
      await closeRound(s, roundId);
      const excluded = new Map<number, Reason>();
      for (let index = 1; index < size; index++) excluded.set(index, Reason.Malformed);
      await publish(s, roundId, excluded);
      await s.rounds.connect(s.auditor).challengeResults(roundId, EVIDENCE, "");
      const receipt = await (await s.rounds.connect(s.network).resolveChallenge(roundId, true)).wait();
      return receipt!.gasUsed;
    };
    const small = await resolveGas(2, 21);
    const large = await resolveGas(300, 22);
    expect(large).to.equal(small);
  });
});
