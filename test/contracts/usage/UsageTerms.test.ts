// Usage programs on-chain: the artists named by the program's terms are the payees of its rounds (periods); the
// operator commits the period's report and is never paid; terms are set once, before the custodian accepts.
import { FhevmType } from "@fhevm/hardhat-plugin";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers, fhevm } from "hardhat";
import { usageTermsConfig, usageTermsHash, type UsageTermsConfig } from "@ciphershare/protocol/chain/usage-terms";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { programConfig } from "@ciphershare/protocol/chain/program";
import { ProgramKind, RoundPhase, SHARES_PER_SETTLEMENT } from "@ciphershare/protocol/chain/constants";
import { ExclusionReason, encryptShares } from "@ciphershare/scripts/lib/chain";
import {
  PUBLIC_KEY_HASH,
  SHAPLEY_SAMPLED,
  closeRound,
  commitAll,
  deployScenario,
  expectDecryptionDenied,
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

  /**
   * A program of the scenario's parties, created by the network but not yet accepted by its custodian: a Usage
   * program bound to `bound`'s hash (the kind and hash may be overridden to test the binding).
   */
  async function createPendingProgram(
    bound: UsageTermsConfig,
    binding: { kind?: number; termsHash?: Hex } = {},
  ): Promise<bigint> {
    const config = programConfig(
      {
        coprocessor: s.coprocessor.address as Address,
        custodian: s.custodian.address as Address,
        payoutToken: (await s.token.getAddress()) as Address,
        publicKeyHash: PUBLIC_KEY_HASH as Hex,
        valuationMethod: SHAPLEY_SAMPLED,
        kind: (binding.kind ?? ProgramKind.Usage) as (typeof ProgramKind)[keyof typeof ProgramKind],
        termsHash: binding.termsHash ?? usageTermsHash(bound),
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
    terms = termsFor();
    programId = await createPendingProgram(terms);
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
      // A federated program cannot be turned into a usage program (its kind is fixed at creation).
      await expect(s.usageTerms.connect(s.network).setTerms(s.programId, mutable(changed)))
        .to.be.revertedWithCustomError(s.usageTerms, "NotAUsageProgramKind")
        .withArgs(s.programId, ProgramKind.Federated);
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
      const mixed = termsFor({ usageWeight: 0.7, qualityScoresHash: scoresHash });
      const mixedProgram = await createPendingProgram(mixed);
      await expect(s.usageTerms.connect(s.network).setTerms(mixedProgram, mutable(mixed))).to.emit(
        s.usageTerms,
        "UsageTermsSet",
      );
    });

    it("binds the terms to the program: refuses a program not of kind Usage, and terms other than its termsHash", async () => {
      for (const kind of [ProgramKind.Federated, ProgramKind.Training]) {
        // A training program must name a buyer key; a federated one must not.
        const buyerKeyHash = kind === ProgramKind.Training ? (ethers.id("buyer") as Hex) : undefined;
        const config = programConfig(
          {
            coprocessor: s.coprocessor.address as Address,
            custodian: s.custodian.address as Address,
            payoutToken: (await s.token.getAddress()) as Address,
            publicKeyHash: PUBLIC_KEY_HASH as Hex,
            kind,
            buyerKeyHash,
            termsHash: usageTermsHash(terms),
          },
          { minContributors: 1 },
        );
        await s.rounds.connect(s.network).createProgram(config);
        const other = await s.rounds.programCount();
        await expect(s.usageTerms.connect(s.network).setTerms(other, mutable(terms)))
          .to.be.revertedWithCustomError(s.usageTerms, "NotAUsageProgramKind")
          .withArgs(other, kind);
      }
      // Created for terms with another minimum: these terms (the operator's friendlier ones) are refused.
      const bound = termsFor({ minGenerations: 5000 });
      const boundProgram = await createPendingProgram(bound);
      await expect(s.usageTerms.connect(s.network).setTerms(boundProgram, mutable(terms)))
        .to.be.revertedWithCustomError(s.usageTerms, "UsageTermsHashMismatch")
        .withArgs(boundProgram, usageTermsHash(bound), usageTermsHash(terms));
      // A Usage program created without a terms hash takes no terms at all.
      const unbound = await createPendingProgram(terms, { termsHash: ethers.ZeroHash as Hex });
      await expect(s.usageTerms.connect(s.network).setTerms(unbound, mutable(terms)))
        .to.be.revertedWithCustomError(s.usageTerms, "UsageTermsHashMismatch")
        .withArgs(unbound, ethers.ZeroHash, usageTermsHash(terms));
      expect(await s.usageTerms.isUsageProgram(boundProgram)).to.equal(false);
      await s.usageTerms.connect(s.network).setTerms(boundProgram, mutable(bound));
      expect(await s.usageTerms.termsHashOf(boundProgram)).to.equal(usageTermsHash(bound));
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

    /** The custodian (or `by`) seals `totals[i]` (millionths) for `who[i]`, encrypted for UsageTerms. */
    const sealTotals = async (
      roundId: bigint,
      who: readonly HardhatEthersSigner[],
      totals: readonly bigint[],
      by: HardhatEthersSigner = s.custodian,
    ) => {
      const encrypted = await encryptShares(await s.usageTerms.getAddress(), by.address, totals);
      return s.usageTerms.connect(by).sealUsageTotals(
        roundId,
        who.map((w) => w.address),
        encrypted.handles,
        encrypted.inputProofs,
      );
    };

    it("seals each artist's usage total to that artist alone, once, by the custodian of a finalized period", async () => {
      const usageTermsAddress = await s.usageTerms.getAddress();
      const roundId = await openRound(s, programId);
      const hashes = await commitAll(s, roundId, [operator]);
      await revealAll(s, roundId, [operator], hashes);
      await closeRound(s, roundId);
      await publish(s, roundId);
      // Still open to challenges: nothing is released, so nothing is sealed.
      await expect(sealTotals(roundId, artists, [1n, 2n, 3n]))
        .to.be.revertedWithCustomError(s.usageTerms, "UsagePeriodNotFinalized")
        .withArgs(roundId, RoundPhase.ResultsPublished);
      await finalize(s, roundId);

      expect(await s.usageTerms.USAGE_TOTAL_SCALE()).to.equal(1_000_000n);
      for (const impostor of [operator, s.network, s.outsider]) {
        await expect(sealTotals(roundId, [artists[0]], [5n], impostor))
          .to.be.revertedWithCustomError(s.usageTerms, "NotUsageCustodian")
          .withArgs(roundId, impostor.address);
      }
      for (const payee of [operator, intruder]) {
        await expect(sealTotals(roundId, [artists[0], payee], [5n, 5n]))
          .to.be.revertedWithCustomError(s.usageTerms, "NotAnArtistOfPeriod")
          .withArgs(roundId, payee.address);
      }
      const one = await encryptShares(usageTermsAddress, s.custodian.address, [5n]);
      await expect(
        s.usageTerms
          .connect(s.custodian)
          .sealUsageTotals(roundId, [artists[0].address, artists[1].address], one.handles, one.inputProofs),
      )
        .to.be.revertedWithCustomError(s.usageTerms, "UsageTotalsLengthMismatch")
        .withArgs(2, 1);
      await expect(s.usageTerms.connect(s.custodian).sealUsageTotals(roundId, [artists[0].address], one.handles, []))
        .to.be.revertedWithCustomError(s.usageTerms, "UsageTotalsProofCountMismatch")
        .withArgs(1, 0);

      // Usage totals in millionths: 3811.345812 and 2094.162 generations' worth; the unused artist 0.
      const totals = [3_811_345_812n, 2_094_162_000n, 0n];
      await expect(sealTotals(roundId, artists.slice(0, 2), totals.slice(0, 2))).to.emit(
        s.usageTerms,
        "UsageTotalSealed",
      );
      await expect(sealTotals(roundId, [artists[1]], [1n]))
        .to.be.revertedWithCustomError(s.usageTerms, "UsageTotalAlreadySealed")
        .withArgs(roundId, artists[1].address);
      await sealTotals(roundId, [artists[2]], [0n]);
      expect(await s.usageTerms.sealedTotalCount(roundId)).to.equal(3n);

      for (const [i, artist] of artists.entries()) {
        const handle = await s.usageTerms.usageTotalOf(roundId, artist.address);
        expect(await fhevm.userDecryptEuint(FhevmType.euint64, handle, usageTermsAddress, artist)).to.equal(totals[i]);
        // Nobody else: another artist, the operator, an outsider, the network, nor the custodian who sealed it.
        for (const other of [...artists.filter((a) => a !== artist), operator, intruder, s.network, s.custodian]) {
          await expectDecryptionDenied(fhevm.userDecryptEuint(FhevmType.euint64, handle, usageTermsAddress, other));
        }
      }
      // The operator's own "total" does not exist; a federated program's round has none to seal.
      expect(await s.usageTerms.usageTotalOf(roundId, operator.address)).to.equal(ethers.ZeroHash);
      const federated = await openRound(s, s.programId);
      await expect(sealTotals(federated, [artists[0]], [1n]))
        .to.be.revertedWithCustomError(s.usageTerms, "NotAUsagePeriod")
        .withArgs(federated);
    });

    it("seals totals in settlement-sized batches, each within the gas and HCU limits", async () => {
      // Two full batches: a batch's cost depends on its size only (256 artists are 4 such batches).
      const many = Array.from(
        { length: 2 * SHARES_PER_SETTLEMENT },
        () => ethers.Wallet.createRandom().address as Address,
      );
      const big = termsFor({ artists: many });
      programId = await createPendingProgram(big);
      await s.usageTerms.connect(s.network).setTerms(programId, mutable(big));
      await s.rounds.connect(s.custodian).acceptProgram(programId);
      const roundId = await finalizedPeriod();
      const usageTermsAddress = await s.usageTerms.getAddress();
      let maxGas = 0n;
      for (let start = 0; start < many.length; start += SHARES_PER_SETTLEMENT) {
        const batch = many.slice(start, start + SHARES_PER_SETTLEMENT);
        const encrypted = await encryptShares(
          usageTermsAddress,
          s.custodian.address,
          batch.map((_, i) => BigInt(1_000_000 * (start + i))),
        );
        const tx = await s.usageTerms
          .connect(s.custodian)
          .sealUsageTotals(roundId, batch, encrypted.handles, encrypted.inputProofs);
        const receipt = (await tx.wait())!;
        const hcu = fhevm.computeTransactionHCU(receipt);
        expect(hcu.globalHCU).to.be.below(20_000_000);
        if (receipt.gasUsed > maxGas) maxGas = receipt.gasUsed;
      }
      expect(maxGas).to.be.below(1n << 24n);
      expect(await s.usageTerms.sealedTotalCount(roundId)).to.equal(BigInt(many.length));
      console.log(`      sealing ${SHARES_PER_SETTLEMENT} usage totals: at most ${maxGas} gas per transaction`);
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
      const small = termsFor({ minGenerations: 5000 });
      const smallProgram = await createPendingProgram(small);
      await s.usageTerms.connect(s.network).setTerms(smallProgram, mutable(small));
      await s.rounds.connect(s.custodian).acceptProgram(smallProgram);
      programId = smallProgram;
      const roundId = await finalizedPeriod();
      await fundPool(s, roundId, 1000n);
      await expect(settle(s, roundId, artists, [500n, 500n, 0n]))
        .to.be.revertedWithCustomError(s.distributor, "TooFewGenerations")
        .withArgs(roundId, 100, 5000);
      // Nor are its totals sealed: a period that small would tell each artist about a handful of generations.
      await expect(sealTotals(roundId, artists, [1n, 2n, 3n]))
        .to.be.revertedWithCustomError(s.usageTerms, "TooFewGenerations")
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
