import { FhevmType } from "@fhevm/hardhat-plugin";
import { expect } from "chai";
import { ethers, fhevm } from "hardhat";
import { deployCipherShare, encryptShares } from "@ciphershare/scripts/lib/chain";

// The benchmark's push-payout baseline must really pay, or its HCU numbers would mean nothing.
describe("PushPayoutMock", () => {
  it("pushes one confidential transfer per recipient from its own balance", async () => {
    const [funder, alice, bob] = await ethers.getSigners();
    const { token, underlying } = await deployCipherShare(funder);
    const tokenAddress = await token.getAddress();
    const push = await ethers.deployContract("PushPayoutMock", [tokenAddress]);
    const pushAddress = await push.getAddress();
    await underlying.mint(funder.address, 100n);
    await underlying.approve(tokenAddress, 100n);
    await token.wrap(pushAddress, 100n);
    const encrypted = await encryptShares(pushAddress, funder.address, [60n, 40n]);
    await push.payAll([alice.address, bob.address], encrypted.handles, encrypted.inputProofs);
    for (const [signer, expected] of [
      [alice, 60n],
      [bob, 40n],
    ] as const) {
      const balance = await token.confidentialBalanceOf(signer.address);
      expect(await fhevm.userDecryptEuint(FhevmType.euint64, balance, tokenAddress, signer)).to.equal(expected);
    }
  });
});
