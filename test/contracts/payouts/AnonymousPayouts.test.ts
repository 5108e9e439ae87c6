import { FhevmType } from "@fhevm/hardhat-plugin";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import type { ContractTransactionReceipt, Signer } from "ethers";
import { ethers, fhevm } from "hardhat";
import {
  commitAll,
  createProgram,
  deployScenario,
  expectDecryptionDenied,
  freshPayoutWallet,
  openRound,
  revealAll,
  sealPayout,
  settledSealedRound,
  type Scenario,
} from "../fixtures";

/** Entries per claim chunk large enough to scan any round of these tests at once. */
const ALL = 1000n;

/** Gas of a transaction's calldata (EIP-2028): a function of the public `to` only, never of hit or miss. */
const calldataGas = (data: string): bigint =>
  ethers.getBytes(data).reduce((gas, byte) => gas + (byte === 0 ? 4n : 16n), 0n);

describe("AnonymousPayouts", () => {
  let s: Scenario;
  let alice: HardhatEthersSigner;
  let bob: HardhatEthersSigner;
  let carol: HardhatEthersSigner;
  let dave: HardhatEthersSigner;
  let anonymousAddress: string;
  let distributorAddress: string;
  let tokenAddress: string;

  beforeEach(async () => {
    s = await deployScenario();
    [alice, bob, carol, dave] = s.contributors;
    anonymousAddress = await s.anonymousPayouts.getAddress();
    distributorAddress = await s.distributor.getAddress();
    tokenAddress = await s.token.getAddress();
  });

  const balanceOf = async (who: Signer): Promise<bigint> => {
    const handle = await s.token.confidentialBalanceOf(await who.getAddress());
    if (handle === ethers.ZeroHash) return 0n;
    return fhevm.userDecryptEuint(FhevmType.euint64, handle, tokenAddress, who);
  };

  const settledRound = (
    signers: readonly HardhatEthersSigner[],
    shares: readonly bigint[],
    sealed: ReadonlyMap<Signer, string>,
    complete = true,
  ) => settledSealedRound(s, signers, shares, sealed, complete);

  const claim = (to: string, roundIds: readonly bigint[], maxEntries = ALL, caller: Signer = s.outsider) =>
    s.anonymousPayouts.connect(caller).claim(to, [...roundIds], maxEntries);

  describe("sealPayout", () => {
    it("stores the encrypted address, readable by its contributor only, and routes the share to the scan", async () => {
      const payTo = freshPayoutWallet();
      const roundId = await openRound(s);
      await commitAll(s, roundId, [alice, bob]);
      await expect(sealPayout(s, roundId, alice, payTo.address))
        .to.emit(s.anonymousPayouts, "PayoutSealed")
        .withArgs(roundId, alice.address, 0n, (handle: string) => handle !== ethers.ZeroHash);
      expect(await s.anonymousPayouts.sealedCount(roundId)).to.equal(1n);
      expect(await s.anonymousPayouts.isSealed(roundId, alice.address)).to.equal(true);
      expect(await s.distributor.isPayoutSealed(roundId, alice.address)).to.equal(true);
      expect(await s.distributor.isPayoutSealed(roundId, bob.address)).to.equal(false);
      const [contributor, handle] = await s.anonymousPayouts.sealedEntry(roundId, 0n);
      expect(contributor).to.equal(alice.address);
      expect(await fhevm.userDecryptEaddress(handle, anonymousAddress, alice)).to.equal(payTo.address);
      for (const other of [bob, s.custodian, s.network, s.outsider]) {
        await expectDecryptionDenied(fhevm.userDecryptEaddress(handle, anonymousAddress, other));
      }
    });

    it("refuses a non-committer, a second seal, a sealed payout after settlement and a cancelled round", async () => {
      const roundId = await openRound(s);
      await commitAll(s, roundId, [alice]);
      await expect(sealPayout(s, roundId, bob, freshPayoutWallet().address))
        .to.be.revertedWithCustomError(s.rounds, "NotACommitter")
        .withArgs(roundId, bob.address);
      await sealPayout(s, roundId, alice, freshPayoutWallet().address);
      await expect(sealPayout(s, roundId, alice, freshPayoutWallet().address))
        .to.be.revertedWithCustomError(s.anonymousPayouts, "PayoutAlreadySealed")
        .withArgs(roundId, alice.address);

      const late = await settledRound([alice, bob], [10n, 20n], new Map());
      await expect(sealPayout(s, late, bob, freshPayoutWallet().address))
        .to.be.revertedWithCustomError(s.anonymousPayouts, "PayoutAfterSettlement")
        .withArgs(late, bob.address);

      const cancelled = await openRound(s);
      await commitAll(s, cancelled, [carol]);
      await revealAll(s, cancelled, [], []);
      await ethers.provider.send("evm_increaseTime", [4000]);
      await s.rounds.closeRound(cancelled); // nobody revealed: cancelled
      await expect(sealPayout(s, cancelled, carol, freshPayoutWallet().address))
        .to.be.revertedWithCustomError(s.anonymousPayouts, "RoundCancelled")
        .withArgs(cancelled);
    });

    it("refuses the sealed contributor's direct claim", async () => {
      const roundId = await settledRound([alice, bob], [10n, 20n], new Map([[alice, freshPayoutWallet().address]]));
      await expect(s.distributor.connect(alice).claim(roundId))
        .to.be.revertedWithCustomError(s.distributor, "PayoutSealed")
        .withArgs(roundId, alice.address);
      await s.distributor.connect(bob).claim(roundId);
      expect(await balanceOf(bob)).to.equal(20n);
    });
  });

  describe("claim", () => {
    it("pays each fresh address exactly its share, and all claims together pay exactly the pool", async () => {
      const wallets = [freshPayoutWallet(), freshPayoutWallet(), freshPayoutWallet()];
      const shares = [300n, 500n, 0n, 200n];
      const roundId = await settledRound(
        [alice, bob, carol, dave],
        shares,
        new Map([
          [alice, wallets[0].address],
          [bob, wallets[1].address],
          [carol, wallets[2].address],
        ]),
      );
      for (const wallet of wallets) {
        await expect(claim(wallet.address, [roundId])).to.emit(s.anonymousPayouts, "AnonymousClaimPaid");
      }
      expect(await balanceOf(wallets[0])).to.equal(300n);
      expect(await balanceOf(wallets[1])).to.equal(500n);
      expect(await balanceOf(wallets[2])).to.equal(0n);
      await s.distributor.connect(dave).claim(roundId);
      expect(await balanceOf(dave)).to.equal(200n);
      const paid = (await Promise.all([...wallets, dave].map(balanceOf))).reduce((a, b) => a + b, 0n);
      expect(paid).to.equal(1000n, "Σ claims = pool");
      expect(await balanceOf(alice)).to.equal(0n, "nothing reaches the contributor's own address");
    });

    it("pays a wrong address an encrypted 0, indistinguishable from a hit: same events, gas and HCU", async () => {
      const right = freshPayoutWallet();
      const roundId = await settledRound(
        [alice, bob, carol],
        [400n, 350n, 250n],
        new Map([
          [alice, right.address],
          [bob, freshPayoutWallet().address],
          [carol, freshPayoutWallet().address],
        ]),
      );
      const wrong = freshPayoutWallet();
      const run = async (to: string) => {
        const tx = await claim(to, [roundId]);
        const receipt = (await tx.wait()) as ContractTransactionReceipt;
        return { tx, receipt, hcu: fhevm.computeTransactionHCU(receipt) };
      };
      const miss = await run(wrong.address);
      const hit = await run(right.address);
      expect(await balanceOf(right)).to.equal(400n);
      expect(await balanceOf(wrong)).to.equal(0n);

      expect(hit.hcu.globalHCU).to.equal(miss.hcu.globalHCU);
      expect(hit.hcu.maxHCUDepth).to.equal(miss.hcu.maxHCUDepth);
      // Execution gas is equal; only the calldata's zero bytes (of the public `to`) may differ.
      expect(hit.receipt.gasUsed - miss.receipt.gasUsed).to.equal(calldataGas(hit.tx.data) - calldataGas(miss.tx.data));
      const shape = (r: ContractTransactionReceipt) =>
        r.logs.map((log) => ({
          address: log.address,
          topic: log.topics[0],
          topics: log.topics.length,
          size: log.data.length,
        }));
      expect(shape(hit.receipt)).to.deep.equal(shape(miss.receipt));
      const paidEvent = (r: ContractTransactionReceipt) =>
        s.anonymousPayouts.interface.parseLog(r.logs.find((log) => log.address === anonymousAddress)!)!;
      expect(paidEvent(hit.receipt).args.to).to.equal(right.address);
      expect(paidEvent(miss.receipt).args.to).to.equal(wrong.address);
      expect(
        await fhevm.userDecryptEuint(FhevmType.euint64, paidEvent(hit.receipt).args.paid, tokenAddress, right),
      ).to.equal(400n);
    });

    it("pays a second claim of the same address nothing: it reverts", async () => {
      const payTo = freshPayoutWallet();
      const roundId = await settledRound([alice, bob], [60n, 40n], new Map([[alice, payTo.address]]));
      await claim(payTo.address, [roundId]);
      await expect(claim(payTo.address, [roundId], ALL, alice))
        .to.be.revertedWithCustomError(s.anonymousPayouts, "AlreadyClaimed")
        .withArgs(roundId, payTo.address);
      expect(await s.anonymousPayouts.isClaimed(roundId, payTo.address)).to.equal(true);
      expect(await balanceOf(payTo)).to.equal(60n);
    });

    it("refuses registered addresses, the zero address, no rounds and empty chunks", async () => {
      const roundId = await settledRound([alice, bob], [60n, 40n], new Map([[alice, freshPayoutWallet().address]]));
      await expect(claim(bob.address, [roundId]))
        .to.be.revertedWithCustomError(s.anonymousPayouts, "RegisteredPayoutAddress")
        .withArgs(bob.address);
      await expect(claim(ethers.ZeroAddress, [roundId])).to.be.revertedWithCustomError(
        s.anonymousPayouts,
        "ZeroPayoutAddress",
      );
      await expect(claim(freshPayoutWallet().address, [])).to.be.revertedWithCustomError(
        s.anonymousPayouts,
        "NoClaimRounds",
      );
      await expect(claim(freshPayoutWallet().address, [roundId], 0n)).to.be.revertedWithCustomError(
        s.anonymousPayouts,
        "ZeroMaxEntries",
      );
    });

    it("waits until the round is finalized and settled, with the settlement no longer open", async () => {
      const payTo = freshPayoutWallet();
      const roundId = await settledRound([alice, bob], [60n, 40n], new Map([[alice, payTo.address]]), false);
      await expect(claim(payTo.address, [roundId]))
        .to.be.revertedWithCustomError(s.anonymousPayouts, "RoundNotClaimable")
        .withArgs(roundId);
      await s.distributor.connect(s.custodian).completeSettlement(roundId);
      await claim(payTo.address, [roundId]);
      expect(await balanceOf(payTo)).to.equal(60n);
    });

    it("covers several rounds of one program in one claim (the union of their sealed sets)", async () => {
      const payTo = freshPayoutWallet();
      const first = await settledRound(
        [alice, bob],
        [70n, 30n],
        new Map([
          [alice, payTo.address],
          [bob, freshPayoutWallet().address],
        ]),
      );
      const second = await settledRound(
        [alice, carol],
        [5n, 15n],
        new Map([
          [alice, payTo.address],
          [carol, freshPayoutWallet().address],
        ]),
      );
      await expect(claim(payTo.address, [first, second]))
        .to.emit(s.anonymousPayouts, "AnonymousClaimPaid")
        .withArgs(payTo.address, [first, second], (handle: string) => handle !== ethers.ZeroHash);
      expect(await balanceOf(payTo)).to.equal(75n);
      await expect(claim(payTo.address, [second])).to.be.revertedWithCustomError(s.anonymousPayouts, "AlreadyClaimed");
    });

    it("pays chunked claims only after the last chunk; anyone continues, nobody switches rounds midway", async () => {
      const payTo = freshPayoutWallet();
      const signers = [alice, bob, carol, dave];
      const roundId = await settledRound(
        signers,
        [10n, 20n, 30n, 40n],
        new Map(signers.map((signer, i) => [signer, i === 3 ? payTo.address : freshPayoutWallet().address])),
      );
      await expect(claim(payTo.address, [roundId], 3n))
        .to.emit(s.anonymousPayouts, "AnonymousClaimScanned")
        .withArgs(payTo.address, 0n, 3n)
        .and.not.to.emit(s.anonymousPayouts, "AnonymousClaimPaid");
      expect(await s.token.confidentialBalanceOf(payTo.address)).to.equal(ethers.ZeroHash, "nothing paid yet");
      const [roundsHash, roundCursor, entryCursor] = await s.anonymousPayouts.claimProgress(payTo.address);
      expect(roundsHash).to.equal(
        ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256[]"], [[roundId]])),
      );
      expect([roundCursor, entryCursor]).to.deep.equal([0n, 3n]);

      const other = await settledRound([alice, bob], [1n, 2n], new Map());
      await expect(claim(payTo.address, [roundId, other]))
        .to.be.revertedWithCustomError(s.anonymousPayouts, "ClaimInProgress")
        .withArgs(payTo.address, roundsHash);

      await expect(claim(payTo.address, [roundId], 1n, bob)).to.emit(s.anonymousPayouts, "AnonymousClaimPaid");
      expect(await balanceOf(payTo)).to.equal(40n);
      expect((await s.anonymousPayouts.claimProgress(payTo.address))[0]).to.equal(ethers.ZeroHash);
    });

    it("refuses rounds of different programs in one claim", async () => {
      const payTo = freshPayoutWallet();
      const first = await settledRound([alice, bob], [1n, 2n], new Map([[alice, payTo.address]]));
      const otherProgram = await createProgram(s, { minContributors: 1 });
      const roundId = await settledSealedRound(s, [carol], [5n], new Map(), true, otherProgram);
      await expect(claim(payTo.address, [first, roundId]))
        .to.be.revertedWithCustomError(s.anonymousPayouts, "MixedPrograms")
        .withArgs(roundId, otherProgram, s.programId);
    });

    it("grants every handle on purpose: payout addresses, sealed shares, payments", async () => {
      const payTo = freshPayoutWallet();
      const roundId = await settledRound([alice, bob], [60n, 40n], new Map([[alice, payTo.address]]));
      const everyone: Signer[] = [s.network, s.custodian, s.coprocessor, s.auditor, s.outsider, alice, bob, payTo];
      const expectReaders = async (
        decrypt: (who: Signer) => Promise<unknown>,
        readers: readonly Signer[],
        value: unknown,
      ) => {
        for (const account of everyone) {
          if (readers.includes(account)) expect(await decrypt(account)).to.equal(value);
          else await expectDecryptionDenied(decrypt(account));
        }
      };
      const [, sealedTo] = await s.anonymousPayouts.sealedEntry(roundId, 0n);
      await expectReaders((who) => fhevm.userDecryptEaddress(sealedTo, anonymousAddress, who), [alice], payTo.address);
      const owed = await s.distributor.owedOf(roundId, alice.address);
      await expectReaders(
        (who) => fhevm.userDecryptEuint(FhevmType.euint64, owed, distributorAddress, who),
        [alice],
        60n,
      );
      const acl = await ethers.getContractAt(
        ["function isAllowed(bytes32 handle, address account) view returns (bool)"],
        (await fhevm.getRelayerMetadata()).ACLAddress,
      );
      expect(await acl.isAllowed(owed, anonymousAddress)).to.equal(true, "the scan reads a sealed share");
      expect(await acl.isAllowed(await s.distributor.owedOf(roundId, bob.address), anonymousAddress)).to.equal(
        false,
        "an unsealed share stays with its contributor",
      );
      const receipt = await (await claim(payTo.address, [roundId])).wait();
      const paid = s.anonymousPayouts.interface.parseLog(receipt!.logs.find((l) => l.address === anonymousAddress)!)!
        .args.paid as string;
      await expectReaders((who) => fhevm.userDecryptEuint(FhevmType.euint64, paid, tokenAddress, who), [payTo], 60n);
      expect(await acl.isAllowed(paid, anonymousAddress)).to.equal(false, "the payment is not kept by the scan");
      await expectReaders((who: Signer) => balanceOfAs(payTo.address, who), [payTo], 60n);
    });
  });

  const balanceOfAs = async (holder: string, who: Signer) =>
    fhevm.userDecryptEuint(FhevmType.euint64, await s.token.confidentialBalanceOf(holder), tokenAddress, who);

  it("refuses calls to the distributor's anonymous entry points from anyone but the bound contract", async () => {
    await expect(s.distributor.connect(s.outsider).recordSealedPayout(1n, s.outsider.address))
      .to.be.revertedWithCustomError(s.distributor, "NotAnonymousPayouts")
      .withArgs(s.outsider.address);
    await expect(s.distributor.connect(s.outsider).payAnonymousClaim(s.outsider.address, [1n], [ethers.ZeroHash]))
      .to.be.revertedWithCustomError(s.distributor, "NotAnonymousPayouts")
      .withArgs(s.outsider.address);
    await expect(s.anonymousPayouts.connect(s.outsider).bindDistributor())
      .to.be.revertedWithCustomError(s.anonymousPayouts, "DistributorAlreadyBound")
      .withArgs(distributorAddress);
    expect(await s.distributor.anonymousPayouts()).to.equal(anonymousAddress);
    expect(await s.anonymousPayouts.distributor()).to.equal(distributorAddress);
  });
});
