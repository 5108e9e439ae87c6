// Attack: link an anonymous payout to its contributor, or take more than one's share through it. A contributor
// seals a fresh payout address (AnonymousPayouts.sealPayout); anyone claims for a clear address and the contract pays
// whichever sealed share names it. Each test names what a malicious party tries and what it cannot do.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { FhevmType } from "@fhevm/hardhat-plugin";
import { expect } from "chai";
import type { Signer } from "ethers";
import { ethers, fhevm } from "hardhat";
import {
  deployScenario,
  expectDecryptionDenied,
  freshPayoutWallet,
  openRound,
  commitAll,
  settledSealedRound,
  type Scenario,
} from "../contracts/fixtures";

describe("anonymous claims", () => {
  let s: Scenario;
  let alice: HardhatEthersSigner;
  let bob: HardhatEthersSigner;
  let carol: HardhatEthersSigner;
  let anonymousAddress: string;

  beforeEach(async () => {
    s = await deployScenario();
    [alice, bob, carol] = s.contributors;
    anonymousAddress = await s.anonymousPayouts.getAddress();
  });

  const balanceOf = async (who: Signer): Promise<bigint> => {
    const handle = await s.token.confidentialBalanceOf(await who.getAddress());
    if (handle === ethers.ZeroHash) return 0n;
    return fhevm.userDecryptEuint(FhevmType.euint64, handle, await s.token.getAddress(), who);
  };

  const claim = (to: string, roundIds: readonly bigint[], maxEntries = 1000n, caller: Signer = s.outsider) =>
    s.anonymousPayouts.connect(caller).claim(to, [...roundIds], maxEntries);

  it("a replayed seal: another contributor cannot submit someone else's sealed address as its own", async () => {
    const roundId = await openRound(s);
    await commitAll(s, roundId, [alice, bob]);
    const input = await fhevm
      .createEncryptedInput(anonymousAddress, alice.address)
      .addAddress(freshPayoutWallet().address)
      .encrypt();
    // Bob replays Alice's ciphertext and proof: the proof is bound to Alice (and to this contract).
    await expect(s.anonymousPayouts.connect(bob).sealPayout(roundId, input.handles[0], input.inputProof)).to.be
      .reverted;
    // An input made for another contract is refused too, even by its own user.
    const elsewhere = await fhevm
      .createEncryptedInput(await s.distributor.getAddress(), alice.address)
      .addAddress(freshPayoutWallet().address)
      .encrypt();
    await expect(s.anonymousPayouts.connect(alice).sealPayout(roundId, elsewhere.handles[0], elsewhere.inputProof)).to
      .be.reverted;
    // Once Alice sealed, the stored handle is no input at all: it cannot be re-submitted without a proof.
    await s.anonymousPayouts.connect(alice).sealPayout(roundId, input.handles[0], input.inputProof);
    const [, stored] = await s.anonymousPayouts.sealedEntry(roundId, 0n);
    await expect(s.anonymousPayouts.connect(bob).sealPayout(roundId, stored, "0x")).to.be.reverted;
    expect(await s.anonymousPayouts.sealedCount(roundId)).to.equal(1n);
  });

  it("a curious contributor or custodian cannot read another's sealed payout address", async () => {
    const payTo = freshPayoutWallet();
    const roundId = await settledSealedRound(s, [alice, bob], [3n, 4n], new Map([[alice, payTo.address]]));
    const [, sealedTo] = await s.anonymousPayouts.sealedEntry(roundId, 0n);
    for (const spy of [bob, s.custodian, s.network, s.coprocessor]) {
      await expectDecryptionDenied(fhevm.userDecryptEaddress(sealedTo, anonymousAddress, spy));
    }
  });

  it("a double dip: a sealed contributor cannot claim directly as well, nor claim to its registered address", async () => {
    const payTo = freshPayoutWallet();
    const roundId = await settledSealedRound(s, [alice, bob], [30n, 70n], new Map([[alice, payTo.address]]));
    await expect(s.distributor.connect(alice).claim(roundId))
      .to.be.revertedWithCustomError(s.distributor, "PayoutSealed")
      .withArgs(roundId, alice.address);
    await expect(claim(alice.address, [roundId], 1000n, alice))
      .to.be.revertedWithCustomError(s.anonymousPayouts, "RegisteredPayoutAddress")
      .withArgs(alice.address);
    await claim(payTo.address, [roundId], 1000n, alice);
    expect(await balanceOf(payTo)).to.equal(30n);
    expect(await balanceOf(alice)).to.equal(0n);
  });

  it("a repeated claim: the same address cannot be paid twice, in any order or grouping of rounds", async () => {
    const payTo = freshPayoutWallet();
    const first = await settledSealedRound(s, [alice, bob], [10n, 20n], new Map([[alice, payTo.address]]));
    const second = await settledSealedRound(s, [alice, carol], [5n, 6n], new Map([[alice, payTo.address]]));
    await claim(payTo.address, [second, first]);
    for (const rounds of [[first], [second], [first, second], [second, first]]) {
      await expect(claim(payTo.address, rounds)).to.be.revertedWithCustomError(s.anonymousPayouts, "AlreadyClaimed");
    }
    await expect(claim(payTo.address, [first, first])).to.be.revertedWithCustomError(
      s.anonymousPayouts,
      "AlreadyClaimed",
    );
    expect(await balanceOf(payTo)).to.equal(15n);
  });

  it("a stalled claim: a griefer who starts someone's claim in chunks cannot stop it nor redirect it", async () => {
    const payTo = freshPayoutWallet();
    const signers = [alice, bob, carol];
    const roundId = await settledSealedRound(
      s,
      signers,
      [1n, 2n, 3n],
      new Map(signers.map((signer, i) => [signer, i === 1 ? payTo.address : freshPayoutWallet().address])),
    );
    await claim(payTo.address, [roundId], 1n, s.outsider); // then walks away
    await expect(claim(payTo.address, [roundId], 1n, s.outsider)).not.to.emit(s.anonymousPayouts, "AnonymousClaimPaid");
    expect(await s.token.confidentialBalanceOf(payTo.address)).to.equal(ethers.ZeroHash, "nothing before the end");
    await expect(claim(payTo.address, [roundId], 1000n, bob)).to.emit(s.anonymousPayouts, "AnonymousClaimPaid");
    expect(await balanceOf(payTo)).to.equal(2n);
  });

  it("an address sealed twice (two colluders) is never paid more than the sum of its two shares", async () => {
    const shared = freshPayoutWallet();
    const roundId = await settledSealedRound(
      s,
      [alice, bob, carol],
      [0b0110n, 0b0011n, 0b1000n],
      new Map([
        [alice, shared.address],
        [bob, shared.address],
        [carol, freshPayoutWallet().address],
      ]),
    );
    await claim(shared.address, [roundId]);
    // Entries 0 and 1 sit on different lanes, merged by OR: 0b0110 | 0b0011 = 0b0111 ≤ 0b0110 + 0b0011.
    expect(await balanceOf(shared)).to.equal(0b0111n);
  });
});
