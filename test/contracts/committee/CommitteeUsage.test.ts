// Usage periods under a custodian committee: a usage program whose custodian is the CustodianCommittee releases its
// one output (the totals) with one share hash per member, and the committee relays the sealing of each artist's own
// total (UsageTerms.sealUsageTotals, custodian only) through a proposal its members confirm, as settlement does.
import { FhevmType } from "@fhevm/hardhat-plugin";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers, fhevm } from "hardhat";
import { programConfig } from "@ciphershare/protocol/chain/program";
import { ProgramKind } from "@ciphershare/protocol/chain/constants";
import { usageTermsConfig, usageTermsHash } from "@ciphershare/protocol/chain/usage-terms";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import {
  PUBLIC_KEY_HASH,
  SHAPLEY_SAMPLED,
  closeRound,
  commitAll,
  expectDecryptionDenied,
  finalize,
  fundPool,
  openRound,
  publish,
  revealAll,
} from "../fixtures";
import {
  agreementProof,
  ascending,
  deployCommitteeScenario,
  encryptForCommittee,
  finalizedCommitteeRound,
  releaseBy,
  RELEASE,
  shareCommitmentOf,
  type CommitteeScenario,
} from "./fixtures";

describe("CustodianCommittee: usage periods", () => {
  let c: CommitteeScenario;
  let operator: HardhatEthersSigner;
  let artists: HardhatEthersSigner[];
  let usageProgram: bigint;

  /** A Usage program custodied by the committee, with its terms, registered and accepted by every member. */
  beforeEach(async () => {
    c = await deployCommitteeScenario();
    [operator, ...artists] = c.contributors.slice(0, 4);
    const terms = usageTermsConfig({
      operator: operator.address as Address,
      artists: artists.map((a) => a.address as Address),
      minGenerations: 100,
    });
    const config = programConfig(
      {
        coprocessor: c.coprocessor.address as Address,
        custodian: c.committeeAddress as Address,
        payoutToken: (await c.token.getAddress()) as Address,
        publicKeyHash: PUBLIC_KEY_HASH as Hex,
        valuationMethod: SHAPLEY_SAMPLED,
        kind: ProgramKind.Usage,
        termsHash: usageTermsHash(terms),
      },
      { minContributors: 1 },
    );
    await c.rounds.connect(c.network).createProgram(config);
    usageProgram = await c.rounds.programCount();
    await c.usageTerms.connect(c.network).setTerms(usageProgram, { ...terms, artists: [...terms.artists] });
    const commitments = c.members.map((_, i) => shareCommitmentOf(i + 1));
    await c.committee.connect(c.network).registerCommittee(
      usageProgram,
      c.members.map((m) => m.address),
      2,
      commitments,
    );
    for (const [i, member] of c.members.entries()) {
      await c.committee.connect(member).acceptProgramShare(usageProgram, commitments[i]);
    }
  });

  /** A finalized period of the usage program: the operator's report of 100 generations. */
  async function finalizedPeriod(): Promise<bigint> {
    const roundId = await openRound(c, usageProgram);
    const hashes = await commitAll(c, roundId, [operator]);
    await revealAll(c, roundId, [operator], hashes);
    await closeRound(c, roundId);
    await publish(c, roundId);
    await finalize(c, roundId);
    return roundId;
  }

  /** `who` release the period with one share hash each (its one output: the totals). */
  async function releasePeriod(roundId: bigint, who: readonly HardhatEthersSigner[]): Promise<void> {
    for (const member of who) await c.committee.connect(member).joinRelease(roundId);
    for (const [k, member] of who.entries()) {
      await c.committee.connect(member).submitDecryptionShares(roundId, [ethers.id(`partial totals ${k}`)]);
    }
    for (const member of who) await c.committee.connect(member).approveRelease(roundId, RELEASE);
  }

  /** `proposer` proposes sealing `totals` for `who`; returns the proposal id. */
  async function proposeSeal(
    roundId: bigint,
    proposer: HardhatEthersSigner,
    who: readonly string[],
    totals: readonly bigint[],
  ): Promise<bigint> {
    const encrypted = await encryptForCommittee(c, proposer, totals);
    await c.committee.connect(proposer).proposeUsageSeal(roundId, [...who], encrypted.handles, encrypted.inputProofs);
    return c.committee.proposalCount();
  }

  async function confirmWith(proposalId: bigint, member: HardhatEthersSigner, totals: readonly bigint[]) {
    const encrypted = await encryptForCommittee(c, member, totals);
    await c.committee.connect(member).confirmSettlement(proposalId, encrypted.handles, encrypted.inputProofs);
  }

  it("releases a period with one share hash per member (its totals), not the federated two", async () => {
    const roundId = await finalizedPeriod();
    const [a, b] = c.members;
    await c.committee.connect(a).joinRelease(roundId);
    await c.committee.connect(b).joinRelease(roundId);
    await expect(c.committee.connect(a).submitDecryptionShares(roundId, [ethers.id("x"), ethers.id("y")]))
      .to.be.revertedWithCustomError(c.committee, "WrongShareCount")
      .withArgs(1, 2);
    await c.committee.connect(a).submitDecryptionShares(roundId, [ethers.id("partial totals a")]);
    await c.committee.connect(b).submitDecryptionShares(roundId, [ethers.id("partial totals b")]);
    await c.committee.connect(a).approveRelease(roundId, RELEASE);
    await c.committee.connect(b).approveRelease(roundId, RELEASE);
    expect((await c.rounds.round(roundId)).releaseHash).to.equal(RELEASE);
    // A federated round of a committee program still takes two.
    const federated = await finalizedCommitteeRound(c);
    await c.committee.connect(a).joinRelease(federated);
    await c.committee.connect(b).joinRelease(federated);
    await expect(c.committee.connect(a).submitDecryptionShares(federated, [ethers.id("x")]))
      .to.be.revertedWithCustomError(c.committee, "WrongShareCount")
      .withArgs(2, 1);
  });

  it("seals each artist's total through a confirmed proposal: to that artist alone, once", async () => {
    const roundId = await finalizedPeriod();
    const [a, b, down] = c.members;
    const totals = [3_811_345_812n, 2_094_162_000n, 0n];
    const who = artists.map((x) => x.address);
    // Nothing to seal before the release is anchored; only members propose.
    await expect(proposeSeal(roundId, a, who, totals))
      .to.be.revertedWithCustomError(c.committee, "ReleaseNotAnchored")
      .withArgs(roundId);
    await releasePeriod(roundId, [a, b]);
    await expect(proposeSeal(roundId, c.stranger, who, totals))
      .to.be.revertedWithCustomError(c.committee, "NotCommitteeMember")
      .withArgs(usageProgram, c.stranger.address);
    // A member cannot seal alone: the usage terms take seals from the custodian (the committee) only.
    const direct = await encryptForCommittee(c, a, [1n]);
    await expect(c.usageTerms.connect(a).sealUsageTotals(roundId, [who[0]], direct.handles, direct.inputProofs))
      .to.be.revertedWithCustomError(c.usageTerms, "NotUsageCustodian")
      .withArgs(roundId, a.address);

    const proposalId = await proposeSeal(roundId, a, who, totals);
    expect((await c.committee.proposal(proposalId)).seal).to.equal(true);
    await expect(c.committee.executeSettlement(proposalId, who, [], "0x")).to.be.revertedWithCustomError(
      c.committee,
      "WrongConfirmationCount",
    );
    await confirmWith(proposalId, b, totals);
    const proof = await agreementProof(c, proposalId, [b.address]);
    await expect(c.committee.executeSettlement(proposalId, who, [b.address], proof.decryptionProof))
      .to.emit(c.committee, "UsageTotalsSealed")
      .withArgs(proposalId, roundId)
      .and.to.emit(c.usageTerms, "UsageTotalSealed");
    expect(await c.usageTerms.sealedTotalCount(roundId)).to.equal(3n);

    const usageTermsAddress = await c.usageTerms.getAddress();
    for (const [i, artist] of artists.entries()) {
      const handle = await c.usageTerms.usageTotalOf(roundId, artist.address);
      expect(await fhevm.userDecryptEuint(FhevmType.euint64, handle, usageTermsAddress, artist)).to.equal(totals[i]);
      for (const other of [...artists.filter((x) => x !== artist), operator, a, b, down, c.network]) {
        await expectDecryptionDenied(fhevm.userDecryptEuint(FhevmType.euint64, handle, usageTermsAddress, other));
      }
    }
    // Sealed once: a second proposal for an artist reverts on the usage terms when executed.
    const again = await proposeSeal(roundId, b, [who[0]], [1n]);
    await confirmWith(again, a, [1n]);
    const againProof = await agreementProof(c, again, [a.address]);
    await expect(c.committee.executeSettlement(again, [who[0]], [a.address], againProof.decryptionProof))
      .to.be.revertedWithCustomError(c.usageTerms, "UsageTotalAlreadySealed")
      .withArgs(roundId, who[0]);
  });

  it("never seals what the members did not agree on, nor for the operator, nor for a federated round", async () => {
    const roundId = await finalizedPeriod();
    const [a, b] = c.members;
    await releasePeriod(roundId, [a, b]);
    const who = artists.map((x) => x.address);
    // A confirmer that computed other totals: its agreement decrypts to false, so the seal cannot execute.
    const forged = await proposeSeal(roundId, a, who, [9_000_000n, 0n, 0n]);
    await confirmWith(forged, b, [3_000_000n, 3_000_000n, 3_000_000n]);
    const agreed = await c.committee.agreementOf(forged, b.address);
    expect(await fhevm.publicDecryptEbool(agreed)).to.equal(false);
    const proof = await agreementProof(c, forged, [b.address]);
    await expect(c.committee.executeSettlement(forged, who, [b.address], proof.decryptionProof)).to.be.reverted;
    expect(await c.usageTerms.sealedTotalCount(roundId)).to.equal(0n);
    // The operator has no total: the usage terms refuse it even when the members agree.
    const forOperator = await proposeSeal(roundId, a, [operator.address], [5n]);
    await confirmWith(forOperator, b, [5n]);
    const operatorProof = await agreementProof(c, forOperator, [b.address]);
    await expect(
      c.committee.executeSettlement(forOperator, [operator.address], [b.address], operatorProof.decryptionProof),
    )
      .to.be.revertedWithCustomError(c.usageTerms, "NotAnArtistOfPeriod")
      .withArgs(roundId, operator.address);
    // A federated round of a committee program has no usage totals.
    const federated = await finalizedCommitteeRound(c);
    await releaseBy(c, federated, [a, b]);
    await expect(proposeSeal(federated, a, [c.contributors[0].address], [1n]))
      .to.be.revertedWithCustomError(c.committee, "NotAUsagePeriodOfCommittee")
      .withArgs(federated);
  });

  it("settles a period's royalties to the artists through the committee, never the operator", async () => {
    const roundId = await finalizedPeriod();
    const [a, b] = c.members;
    await releasePeriod(roundId, [a, b]);
    await fundPool(c, roundId, 1000n);
    const who = ascending(artists.map((x) => x.address));
    const shares = [600n, 400n, 0n];
    const encrypted = await encryptForCommittee(c, a, shares);
    await c.committee.connect(a).proposeSettlement(roundId, who, encrypted.handles, encrypted.inputProofs);
    const proposalId = await c.committee.proposalCount();
    expect((await c.committee.proposal(proposalId)).seal).to.equal(false);
    await confirmWith(proposalId, b, shares);
    const proof = await agreementProof(c, proposalId, [b.address]);
    await expect(c.committee.executeSettlement(proposalId, who, [b.address], proof.decryptionProof)).to.emit(
      c.committee,
      "SettlementExecuted",
    );
    await c.committee.connect(a).completeSettlement(roundId);
    const owed = await c.distributor.owedOf(roundId, who[0]);
    const payee = artists.find((x) => x.address === who[0])!;
    expect(await fhevm.userDecryptEuint(FhevmType.euint64, owed, await c.distributor.getAddress(), payee)).to.equal(
      600n,
    );
    expect(await c.distributor.isPayee(roundId, operator.address)).to.equal(false);
  });
});
