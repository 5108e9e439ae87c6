import { FhevmType } from "@fhevm/hardhat-plugin";
import { expect } from "chai";
import { ethers, fhevm } from "hardhat";
import {
  ExclusionReason,
  advanceTo,
  createAcceptedProgram,
  encryptShares,
  inputsHashOf,
  latestTimestamp,
  sealOf,
  signRegistration,
} from "@ciphershare/scripts/lib/chain";
import {
  BASE_MODEL_HASH,
  COMMIT_PERIOD,
  DISPUTE_WINDOW,
  PUBLIC_KEY_HASH,
  REVEAL_WINDOW,
  SHAPLEY_SAMPLED,
  STORE_URI,
  deployScenario,
  expectDecryptionDenied,
  fundPool,
  publish,
} from "./fixtures";

const DEPOSIT = 10n ** 16n;

describe("a full royalty round, from registration to claim", () => {
  it("pays each included contributor its share, decryptable by it alone, and settles every deposit", async () => {
    const s = await deployScenario();
    const [alice, bob, carol, dave, erin] = s.contributors;
    const distributor = await s.distributor.getAddress();
    const token = await s.token.getAddress();

    // Program: at least 3 included contributions, a deposit per commitment; the custodian accepts it.
    const programId = await createAcceptedProgram(
      s.rounds,
      s.network,
      {
        coprocessor: s.coprocessor.address,
        custodian: s.custodian,
        payoutToken: token,
        publicKeyHash: PUBLIC_KEY_HASH,
        valuationMethod: SHAPLEY_SAMPLED,
      },
      { minContributors: 3, commitDeposit: DEPOSIT },
    );

    // Registration: four directly, one gaslessly through a relayer.
    for (const c of [alice, bob, carol, erin]) await s.rounds.connect(c).register(`ipfs://${c.address}`);
    const deadline = (await latestTimestamp()) + 600n;
    const signature = await signRegistration(s.rounds, dave, "ipfs://dave", deadline);
    await s.rounds.connect(s.outsider).registerWithSignature(dave.address, "ipfs://dave", deadline, signature);

    // Commit phase: everyone commits a seal of its ciphertext hash with the deposit; nothing is readable yet.
    const commitDeadline = (await latestTimestamp()) + BigInt(COMMIT_PERIOD);
    await s.rounds
      .connect(s.network)
      .openRound(programId, BASE_MODEL_HASH, commitDeadline, REVEAL_WINDOW, DISPUTE_WINDOW);
    const roundId = await s.rounds.roundCount();
    const hashes: string[] = [];
    for (const c of [alice, bob, carol, dave, erin]) {
      const hash = ethers.id(`update of ${c.address}`);
      hashes.push(hash);
      await s.rounds.connect(c).commitContribution(roundId, sealOf(hash, c.address), 1000, { value: DEPOSIT });
    }

    // Reveal phase: all but erin reveal their hash and URI (then upload their ciphertexts).
    await advanceTo(commitDeadline + 1n);
    for (const [i, c] of [alice, bob, carol, dave].entries()) {
      await s.rounds.connect(c).revealContribution(roundId, hashes[i], STORE_URI);
    }
    await advanceTo((await s.rounds.round(roundId)).revealDeadline + 1n);
    await s.rounds.closeRound(roundId);

    // The coprocessor excludes dave (blob missing); erin is Unrevealed by the chain's own record.
    const publication = await publish(s, roundId, new Map([[3, ExclusionReason.BlobMissing]]));
    expect(publication.includedIndexes).to.deep.equal([0, 1, 2]);

    // An auditor re-checks from chain data alone: the published inputs are the revealed hashes minus the exclusions.
    const [published] = await s.rounds.queryFilter(s.rounds.filters.ResultsPublished(roundId));
    const reasons = ethers.getBytes(published.args.reasons);
    const commitments = await s.rounds.commitments(roundId, 0n, 100n);
    const kept = commitments.filter((_, i) => reasons[i] === ExclusionReason.None).map((c) => c.ciphertextHash);
    expect((await s.rounds.round(roundId)).inputsHash).to.equal(inputsHashOf(kept));
    expect([...reasons]).to.deep.equal([0, 0, 0, ExclusionReason.BlobMissing, ExclusionReason.Unrevealed]);

    // Final after the dispute window; only then does the custodian release and anchor its record.
    await advanceTo((await s.rounds.round(roundId)).disputeDeadline + 1n);
    await s.rounds.finalizeRound(roundId);
    const releaseHash = ethers.id("release record of round 1");
    await expect(s.rounds.connect(s.custodian).anchorRelease(roundId, releaseHash))
      .to.emit(s.rounds, "ReleaseAnchored")
      .withArgs(roundId, published.args.publication, releaseHash);

    // Payout: the network wraps 1 000 tUSD into the pool, the custodian settles in two batches and completes.
    await fundPool(s, roundId, 1_000_000_000n);
    const shares = [500_000_000n, 300_000_000n, 200_000_000n];
    const batches = [
      { who: [alice, bob], shares: shares.slice(0, 2) },
      { who: [carol], shares: shares.slice(2) },
    ];
    for (const batch of batches) {
      const encrypted = await encryptShares(distributor, s.custodian.address, batch.shares);
      await s.distributor.connect(s.custodian).settle(
        roundId,
        batch.who.map((c) => c.address),
        encrypted.handles,
        encrypted.inputProofs,
      );
    }
    await s.distributor.connect(s.custodian).completeSettlement(roundId);
    expect(await fhevm.publicDecryptEuint(FhevmType.euint64, await s.distributor.unallocatedOf(roundId))).to.equal(0n);

    for (const [i, c] of [alice, bob, carol].entries()) {
      await s.distributor.connect(c).claim(roundId);
      const balance = await s.token.confidentialBalanceOf(c.address);
      expect(await fhevm.userDecryptEuint(FhevmType.euint64, balance, token, c)).to.equal(shares[i]);
      await expectDecryptionDenied(fhevm.userDecryptEuint(FhevmType.euint64, balance, token, dave));
    }
    await expect(s.distributor.connect(dave).claim(roundId))
      .to.be.revertedWithCustomError(s.distributor, "NothingOwed")
      .withArgs(roundId, dave.address);

    // Deposits: the included get theirs back; dave's and erin's go to the network.
    for (const c of [alice, bob, carol]) {
      await expect(s.rounds.connect(c).withdrawDeposit(roundId)).to.changeEtherBalance(c, DEPOSIT);
    }
    await expect(s.rounds.connect(s.network).collectForfeitedDeposits(roundId)).to.changeEtherBalance(
      s.network,
      2n * DEPOSIT,
    );
    expect(await ethers.provider.getBalance(await s.rounds.getAddress())).to.equal(0n);
  });
});
