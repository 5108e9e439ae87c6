// Attack: stall a round by flooding it with junk commitments (registration is free) until its publication no longer
// fits one transaction. On the contracts before this change, each excluded contribution cost the coprocessor about
// 30k gas (a storage write and an event), so about 540 junk commitments pushed `publishResults` over the 2^24 cap.
import { expect } from "chai";
import type { Signer } from "ethers";
import { ethers } from "hardhat";
import { ExclusionReason, impersonatedSigners, publicationOf, sealOf } from "@ciphershare/scripts/lib/chain";
import {
  STORE_URI,
  closeRound,
  commitAll,
  contribute,
  createProgram,
  deployScenario,
  finalize,
  openRound,
  publish,
  startReveal,
  type Scenario,
} from "../contracts/fixtures";

/** The hardfork's per-transaction gas cap (EIP-7825). */
const GAS_PER_TX = 2n ** 24n;
const DEPOSIT = 10n ** 15n;
/** Rounds in these tests take thousands of one-second blocks. */
const LONG_PERIOD = 100_000;

describe("stalled publication", () => {
  let s: Scenario;

  beforeEach(async () => {
    s = await deployScenario();
  });

  /** Each junk account registers, commits a seal of a junk hash and, when `reveal`, reveals it. */
  const flood = async (roundId: bigint, junk: readonly Signer[], reveal: boolean) => {
    const hashes = junk.map((_, i) => ethers.id(`junk ${roundId}/${i}`));
    const deposit = (await s.rounds.round(roundId)).commitDeposit;
    for (const [i, account] of junk.entries()) {
      const address = await account.getAddress();
      if (!(await s.rounds.isRegistered(address))) await s.rounds.connect(account).register("");
      await s.rounds.connect(account).commitContribution(roundId, sealOf(hashes[i], address), 1, { value: deposit });
    }
    return async () => {
      if (!reveal) return;
      for (const [i, account] of junk.entries()) {
        await s.rounds.connect(account).revealContribution(roundId, hashes[i], STORE_URI);
      }
    };
  };

  /** Publishes `roundId` with `excluded` reasons (by index) and returns the gas used. */
  const publishGas = async (roundId: bigint, excluded: ReadonlyMap<number, ExclusionReason>) =>
    (await publish(s, roundId, excluded)).gasUsed;

  it("600 revealed junk commitments and 300 unrevealed ones cannot stop the honest contributions' publication", async () => {
    const programId = await createProgram(s, { minContributors: 3 });
    const roundId = await openRound(s, programId, LONG_PERIOD, LONG_PERIOD);
    const honest = s.contributors.slice(0, 3);
    const honestHashes = await commitAll(s, roundId, honest);
    const revealJunk = await flood(roundId, await impersonatedSigners(600, 11), true);
    await flood(roundId, await impersonatedSigners(300, 12), false);
    await startReveal(s, roundId);
    for (const [i, c] of honest.entries())
      await s.rounds.connect(c).revealContribution(roundId, honestHashes[i], STORE_URI);
    await revealJunk();
    await closeRound(s, roundId);

    const malformed = new Map<number, ExclusionReason>();
    for (let index = 3; index < 603; index++) malformed.set(index, ExclusionReason.Malformed);
    const gas = await publishGas(roundId, malformed);
    expect(gas).to.be.below(GAS_PER_TX / 8n, "junk costs the coprocessor a byte of calldata each, not a storage write");
    const round = await s.rounds.round(roundId);
    expect([round.commitCount, round.includedCount]).to.deep.equal([903n, 3n]);
    await finalize(s, roundId);
    for (const c of honest) expect(await s.rounds.isIncluded(roundId, c.address)).to.equal(true);
  });

  it("a round of 2,000 commitments publishes in one transaction, even in the costliest exclusion pattern", async () => {
    const programId = await createProgram(s, { minContributors: 3 });
    const roundId = await openRound(s, programId, LONG_PERIOD, LONG_PERIOD);
    const crowd = await impersonatedSigners(2_000, 13);
    const reveal = await flood(roundId, crowd, true);
    await startReveal(s, roundId);
    await reveal();
    await closeRound(s, roundId);
    // One exclusion per 32 commitments stores every reason word and reads almost every revealed hash.
    const excluded = new Map<number, ExclusionReason>();
    for (let index = 0; index < 2_000; index += 32) excluded.set(index, ExclusionReason.BlobMissing);
    expect(await publishGas(roundId, excluded)).to.be.below(GAS_PER_TX);
    expect((await s.rounds.round(roundId)).includedCount).to.equal(2_000n - 63n);
  });

  it("flooding is bounded by the program's cap and paid for: excluded junk forfeits its deposits to the network", async () => {
    const programId = await createProgram(s, { minContributors: 1, maxCommitments: 40, commitDeposit: DEPOSIT });
    const roundId = await openRound(s, programId);
    const [honest] = s.contributors;
    const junk = await impersonatedSigners(40, 14);
    const revealJunk = await flood(roundId, junk.slice(0, 39), true);
    const [honestHash] = await commitAll(s, roundId, [honest]);
    const extra = junk[39];
    await s.rounds.connect(extra).register("");
    await expect(
      s.rounds
        .connect(extra)
        .commitContribution(roundId, sealOf(ethers.id("one too many"), await extra.getAddress()), 1, {
          value: DEPOSIT,
        }),
    )
      .to.be.revertedWithCustomError(s.rounds, "CommitmentCapReached")
      .withArgs(roundId, 40n);
    await startReveal(s, roundId);
    await revealJunk();
    await s.rounds.connect(honest).revealContribution(roundId, honestHash, STORE_URI);
    await closeRound(s, roundId);
    const malformed = new Map<number, ExclusionReason>();
    for (let index = 0; index < 39; index++) malformed.set(index, ExclusionReason.Malformed);
    await publishGas(roundId, malformed);
    await finalize(s, roundId);
    await expect(s.rounds.connect(s.network).collectForfeitedDeposits(roundId)).to.changeEtherBalance(
      s.network,
      39n * DEPOSIT,
    );
    await expect(s.rounds.connect(honest).withdrawDeposit(roundId)).to.changeEtherBalance(honest, DEPOSIT);
  });

  it("an honest round still closes when junk never reveals", async () => {
    const roundId = await openRound(s);
    await flood(roundId, await impersonatedSigners(50, 15), false);
    await contribute(s, roundId, s.contributors.slice(0, 1));
    await closeRound(s, roundId);
    const publication = await publicationOf(s.rounds, roundId);
    expect(publication.includedIndexes).to.deep.equal([50]);
  });
});
