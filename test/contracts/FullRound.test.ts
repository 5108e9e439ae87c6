import { FhevmType } from "@fhevm/hardhat-plugin";
import { expect } from "chai";
import { ethers, fhevm } from "hardhat";
import {
  advanceTime,
  encryptShares,
  inputsHashOf,
  latestTimestamp,
  signRegistration,
} from "@ciphershare/scripts/lib/chain";
import {
  COMMIT_PERIOD,
  DISPUTE_WINDOW,
  Reason,
  STORE_URI,
  deployScenario,
  expectDecryptionDenied,
  fundPool,
  openRound,
} from "./fixtures";

describe("a full royalty round, from registration to claim", () => {
  it("pays each included contributor its share, decryptable by it alone", async () => {
    const s = await deployScenario();
    const [alice, bob, carol, dave] = s.contributors;
    const distributor = await s.distributor.getAddress();
    const token = await s.token.getAddress();

    // Registration: three directly, one gaslessly through a relayer.
    for (const c of [alice, bob, carol]) await s.rounds.connect(c).register(`ipfs://${c.address}`);
    const deadline = (await latestTimestamp()) + 600n;
    const signature = await signRegistration(s.rounds, dave, "ipfs://dave", deadline);
    await s.rounds.connect(s.outsider).registerWithSignature(dave.address, "ipfs://dave", deadline, signature);

    // Round: everyone commits; the coprocessor excludes dave (blob missing).
    const roundId = await openRound(s);
    const hashes: string[] = [];
    for (const c of [alice, bob, carol, dave]) {
      const hash = ethers.id(`update of ${c.address}`);
      hashes.push(hash);
      await s.rounds.connect(c).commitContribution(roundId, hash, 1000, STORE_URI);
    }
    await advanceTime(COMMIT_PERIOD + 1);
    await s.rounds.closeRound(roundId);
    await s.rounds
      .connect(s.coprocessor)
      .publishResults(roundId, ethers.id("aggregate"), ethers.id("scores"), inputsHashOf(hashes.slice(0, 3)), [
        { contributor: dave.address, reason: Reason.BlobMissing },
      ]);

    // An auditor re-checks from chain data alone: the published inputs are the commitments minus the exclusions.
    const commitments = await s.rounds.commitments(roundId, 0n, 100n);
    const reasons = await Promise.all(commitments.map((c) => s.rounds.exclusionOf(roundId, c.contributor)));
    const kept = commitments.filter((_, i) => reasons[i] === BigInt(Reason.None)).map((c) => c.ciphertextHash);
    expect((await s.rounds.round(roundId)).inputsHash).to.equal(inputsHashOf(kept));

    await advanceTime(DISPUTE_WINDOW + 1);
    await s.rounds.finalizeRound(roundId);

    // Payout: the network wraps 1 000 tUSD into the pool, the custodian settles, contributors claim.
    await fundPool(s, roundId, 1_000_000_000n);
    const shares = [500_000_000n, 300_000_000n, 200_000_000n];
    const encrypted = await encryptShares(distributor, s.custodian.address, shares);
    await s.distributor
      .connect(s.custodian)
      .settle(roundId, [alice.address, bob.address, carol.address], encrypted.handles, encrypted.inputProofs);
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
  });
});
