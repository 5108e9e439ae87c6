// Usage programs on-chain: the artists named by the program's terms are the payees of its rounds (periods); the
// operator commits the period's report and is never paid; terms are set once, before the custodian accepts.
import { FhevmType } from "@fhevm/hardhat-plugin";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers, fhevm } from "hardhat";
import { usageTermsConfig, usageTermsHash, type UsageTermsConfig } from "@ciphershare/protocol/chain/usage-terms";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { programConfig } from "@ciphershare/protocol/chain/program";
import { ExclusionReason } from "@ciphershare/scripts/lib/chain";
import {
  PUBLIC_KEY_HASH,
  SHAPLEY_SAMPLED,
  closeRound,
  commitAll,
  deployScenario,
  finalize,
  freshPayoutWallet,
  fundPool,
  openRound,
  publish,
  revealAll,
  sealPayout,
  settle,
  type Scenario,
} from "../fixtures";

/** The struct as ethers takes it (a mutable artists array). */
const mutable = (t: UsageTermsConfig) => ({ ...t, artists: [...t.artists] });

describe("UsageTerms", () => {
  let s: Scenario;
  let operator: HardhatEthersSigner;
  let artists: HardhatEthersSigner[];
  let intruder: HardhatEthersSigner;
  let programId: bigint;
  let terms: UsageTermsConfig;

  /** A program of the scenario's parties, created by the network but not yet accepted by its custodian. */
  async function createPendingProgram(): Promise<bigint> {
    const config = programConfig(
      {
        coprocessor: s.coprocessor.address as Address,
        custodian: s.custodian.address as Address,
        payoutToken: (await s.token.getAddress()) as Address,
        publicKeyHash: PUBLIC_KEY_HASH as Hex,
        valuationMethod: SHAPLEY_SAMPLED,
      },
      { minContributors: 1 },
    );
    await s.rounds.connect(s.network).createProgram(config);
    return s.rounds.programCount();
  }

  const termsFor = (overrides: Partial<Parameters<typeof usageTermsConfig>[0]> = {}) =>
    usageTermsConfig({
      operator: operator.address as Address,
      artists: artists.map((a) => a.address as Address),
      minGenerations: 100,
      ...overrides,
    });

  /** A finalized period of the usage program in which `reporters` committed and revealed a report each. */
  async function finalizedPeriod(
    reporters: HardhatEthersSigner[] = [operator],
    excluded: ReadonlyMap<number, ExclusionReason> = new Map(),
  ): Promise<bigint> {
    const roundId = await openRound(s, programId);
    const hashes = await commitAll(s, roundId, reporters); // sample counts 100, 200, ...: the generations
    await revealAll(s, roundId, reporters, hashes);
    await closeRound(s, roundId);
    await publish(s, roundId, excluded);
    await finalize(s, roundId);
    return roundId;
  }

  beforeEach(async () => {
    s = await deployScenario();
    [operator, ...artists] = s.contributors.slice(0, 4);
    intruder = s.contributors[4];
    programId = await createPendingProgram();
    terms = termsFor();
  });

  describe("setTerms", () => {
    it("records the artists in order, the rules and their hash, for the network only", async () => {
      await expect(s.usageTerms.connect(s.outsider).setTerms(programId, mutable(terms)))
        .to.be.revertedWithCustomError(s.usageTerms, "NotUsageNetwork")
        .withArgs(programId, s.outsider.address);
      const hash = usageTermsHash(terms);
      await expect(s.usageTerms.connect(s.network).setTerms(programId, mutable(terms)))
        .to.emit(s.usageTerms, "UsageTermsSet")
        .withArgs(programId, s.network.address, hash, operator.address, 3);
      expect(await s.usageTerms.termsHashOf(programId)).to.equal(hash);
      expect(await s.usageTerms.isUsageProgram(programId)).to.equal(true);
      expect(await s.usageTerms.isUsageProgram(s.programId)).to.equal(false);
      expect(await s.usageTerms.artistCount(programId)).to.equal(3n);
      const stored = await s.usageTerms.termsOf(programId);
      expect(stored.artists).to.deep.equal(artists.map((a) => a.address));
      expect(stored.capMicros).to.equal(1_000_000n);
      expect(stored.minGenerations).to.equal(100n);
      expect(stored.usageWeightBps).to.equal(10_000n);
      expect(await s.usageTerms.isArtist(programId, artists[1].address)).to.equal(true);
      expect(await s.usageTerms.isArtist(programId, operator.address)).to.equal(false);
    });

    it("never changes: not twice, and not once the custodian accepted (no round can run under other terms)", async () => {
      await s.usageTerms.connect(s.network).setTerms(programId, mutable(terms));
      const changed = termsFor({ artists: [intruder.address as Address, ...artists.map((a) => a.address as Address)] });
      await expect(s.usageTerms.connect(s.network).setTerms(programId, mutable(changed)))
        .to.be.revertedWithCustomError(s.usageTerms, "UsageTermsAlreadySet")
        .withArgs(programId, usageTermsHash(terms));
      await s.rounds.connect(s.custodian).acceptProgram(programId);
      const roundId = await openRound(s, programId);
      await expect(s.usageTerms.connect(s.network).setTerms(programId, mutable(changed)))
        .to.be.revertedWithCustomError(s.usageTerms, "ProgramAlreadyActive")
        .withArgs(programId);
      // A federated program that is already active cannot be turned into a usage program mid-round either.
      await expect(s.usageTerms.connect(s.network).setTerms(s.programId, mutable(changed)))
        .to.be.revertedWithCustomError(s.usageTerms, "ProgramAlreadyActive")
        .withArgs(s.programId);
      expect(await s.usageTerms.termsHashOf(programId)).to.equal(usageTermsHash(terms));
      expect(roundId).to.be.greaterThan(0n);
    });

    it("refuses malformed terms, naming the bad value", async () => {
      const set = (t: UsageTermsConfig) => s.usageTerms.connect(s.network).setTerms(programId, mutable(t));
      const a = artists.map((x) => x.address as Address);
      await expect(set(termsFor({ artists: [] })))
        .to.be.revertedWithCustomError(s.usageTerms, "ArtistCountOutOfRange")
        .withArgs(0, 256);
      await expect(set(termsFor({ artists: [a[0], ethers.ZeroAddress as Address] })))
        .to.be.revertedWithCustomError(s.usageTerms, "ZeroArtist")
        .withArgs(1);
      await expect(set(termsFor({ artists: [a[0], a[1], a[0]] })))
        .to.be.revertedWithCustomError(s.usageTerms, "DuplicateArtist")
        .withArgs(a[0], 2);
      await expect(set(termsFor({ artists: [a[0], operator.address as Address] })))
        .to.be.revertedWithCustomError(s.usageTerms, "OperatorIsArtist")
        .withArgs(operator.address);
      await expect(set(termsFor({ operator: ethers.ZeroAddress as Address }))).to.be.revertedWithCustomError(
        s.usageTerms,
        "ZeroOperator",
      );
      await expect(set({ ...terms, capMicros: 0n })).to.be.revertedWithCustomError(s.usageTerms, "ZeroCap");
      await expect(set({ ...terms, usageWeightBps: 10_001 }))
        .to.be.revertedWithCustomError(s.usageTerms, "UsageWeightOutOfRange")
        .withArgs(10_001);
      await expect(set(termsFor({ usageWeight: 0.7 })))
        .to.be.revertedWithCustomError(s.usageTerms, "QualityScoresHashMismatch")
        .withArgs(7000, ethers.ZeroHash);
      const scoresHash = ethers.id("phi.json") as Hex;
      await expect(set(termsFor({ qualityScoresHash: scoresHash })))
        .to.be.revertedWithCustomError(s.usageTerms, "QualityScoresHashMismatch")
        .withArgs(10_000, scoresHash);
      await expect(set(termsFor({ usageWeight: 0.7, qualityScoresHash: scoresHash }))).to.emit(
        s.usageTerms,
        "UsageTermsSet",
      );
    });
  });

  describe("a usage period's settlement", () => {
    let distributorAddress: string;
    let tokenAddress: string;

    beforeEach(async () => {
      await s.usageTerms.connect(s.network).setTerms(programId, mutable(terms));
      await s.rounds.connect(s.custodian).acceptProgram(programId);
      distributorAddress = await s.distributor.getAddress();
      tokenAddress = await s.token.getAddress();
    });

    const owedOf = async (roundId: bigint, who: HardhatEthersSigner) =>
      fhevm.userDecryptEuint(
        FhevmType.euint64,
        await s.distributor.owedOf(roundId, who.address),
        distributorAddress,
        who,
      );

    it("pays the artists, never the operator who committed the report, nor anyone else", async () => {
      const roundId = await finalizedPeriod();
      expect(await s.usageTerms.generationsOf(roundId)).to.equal(100n);
      expect(await s.rounds.isIncluded(roundId, operator.address)).to.equal(true);
      expect(await s.distributor.payeeCount(roundId)).to.equal(3n);
      expect(await s.distributor.isPayee(roundId, artists[0].address)).to.equal(true);
      expect(await s.distributor.isPayee(roundId, operator.address)).to.equal(false);
      await fundPool(s, roundId, 1000n);

      await expect(settle(s, roundId, [operator], [1000n]))
        .to.be.revertedWithCustomError(s.distributor, "ContributorNotIncluded")
        .withArgs(roundId, operator.address);
      await expect(settle(s, roundId, [artists[0], intruder], [500n, 500n]))
        .to.be.revertedWithCustomError(s.distributor, "ContributorNotIncluded")
        .withArgs(roundId, intruder.address);

      await settle(s, roundId, [artists[0], artists[1]], [700n, 300n]);
      await expect(s.distributor.connect(s.custodian).completeSettlement(roundId))
        .to.be.revertedWithCustomError(s.distributor, "SettlementIncomplete")
        .withArgs(roundId, 2, 3);
      await settle(s, roundId, [artists[2]], [0n]); // the never-used artist: settled, owed 0
      await s.distributor.connect(s.custodian).completeSettlement(roundId);
      expect(await fhevm.publicDecryptEuint(FhevmType.euint64, await s.distributor.unallocatedOf(roundId))).to.equal(
        0n,
      );

      expect(await owedOf(roundId, artists[0])).to.equal(700n);
      expect(await owedOf(roundId, artists[2])).to.equal(0n);
      await s.distributor.connect(artists[0]).claim(roundId);
      const balance = await s.token.confidentialBalanceOf(artists[0].address);
      expect(await fhevm.userDecryptEuint(FhevmType.euint64, balance, tokenAddress, artists[0])).to.equal(700n);
      for (const outsider of [operator, intruder]) {
        await expect(s.distributor.connect(outsider).claim(roundId))
          .to.be.revertedWithCustomError(s.distributor, "NothingOwed")
          .withArgs(roundId, outsider.address);
      }
    });

    it("counts only the operator's report: a period whose operator report is excluded is never settled", async () => {
      // The intruder commits a report of its own; the coprocessor excludes the operator's (e.g. malformed).
      const roundId = await finalizedPeriod([operator, intruder], new Map([[0, ExclusionReason.Malformed]]));
      expect(await s.rounds.isIncluded(roundId, intruder.address)).to.equal(true);
      expect(await s.usageTerms.generationsOf(roundId)).to.equal(0n);
      await fundPool(s, roundId, 1000n);
      await expect(settle(s, roundId, [artists[0]], [1000n]))
        .to.be.revertedWithCustomError(s.distributor, "TooFewGenerations")
        .withArgs(roundId, 0, 100);
      await expect(settle(s, roundId, [intruder], [1000n]))
        .to.be.revertedWithCustomError(s.distributor, "TooFewGenerations")
        .withArgs(roundId, 0, 100);
    });

    it("refuses a period below the terms' minimum generations", async () => {
      const smallProgram = await createPendingProgram();
      await s.usageTerms.connect(s.network).setTerms(smallProgram, mutable(termsFor({ minGenerations: 5000 })));
      await s.rounds.connect(s.custodian).acceptProgram(smallProgram);
      programId = smallProgram;
      const roundId = await finalizedPeriod();
      await fundPool(s, roundId, 1000n);
      await expect(settle(s, roundId, artists, [500n, 500n, 0n]))
        .to.be.revertedWithCustomError(s.distributor, "TooFewGenerations")
        .withArgs(roundId, 100, 5000);
    });

    it("lets artists, and only artists, seal an anonymous payout and claim it from a fresh address", async () => {
      const roundId = await openRound(s, programId);
      const hashes = await commitAll(s, roundId, [operator]);
      const payTo = freshPayoutWallet();
      await sealPayout(s, roundId, artists[1], payTo.address);
      for (const outsider of [operator, intruder]) {
        await expect(sealPayout(s, roundId, outsider, freshPayoutWallet().address))
          .to.be.revertedWithCustomError(s.anonymousPayouts, "NotAnArtist")
          .withArgs(roundId, outsider.address);
      }
      await revealAll(s, roundId, [operator], hashes);
      await closeRound(s, roundId);
      await publish(s, roundId);
      await finalize(s, roundId);
      await fundPool(s, roundId, 900n);
      await settle(s, roundId, artists, [600n, 300n, 0n]);
      await expect(
        s.anonymousPayouts.connect(s.outsider).claim(payTo.address, [roundId], 8),
      ).to.be.revertedWithCustomError(s.anonymousPayouts, "RoundNotClaimable");
      await s.distributor.connect(s.custodian).completeSettlement(roundId);
      await expect(s.distributor.connect(artists[1]).claim(roundId))
        .to.be.revertedWithCustomError(s.distributor, "PayoutSealed")
        .withArgs(roundId, artists[1].address);
      await s.anonymousPayouts.connect(s.outsider).claim(payTo.address, [roundId], 8);
      const balance = await s.token.confidentialBalanceOf(payTo.address);
      expect(await fhevm.userDecryptEuint(FhevmType.euint64, balance, tokenAddress, payTo)).to.equal(300n);
    });
  });
});
