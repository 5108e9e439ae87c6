// Meta-transactions of the royalty token (ERC-2771): a fresh payout address holds no ETH, so it spends by signature
// and a relayer pays the gas through the trusted CipherShareForwarder.
import { FhevmType } from "@fhevm/hardhat-plugin";
import { expect } from "chai";
import type { Signer } from "ethers";
import { ethers, fhevm, network } from "hardhat";
import { signForwardRequest } from "@ciphershare/scripts/lib/chain";
import { deployScenario, freshPayoutWallet, type Scenario } from "../fixtures";

describe("RoyaltyToken through the forwarder (ERC-2771)", () => {
  let s: Scenario;
  let tokenAddress: string;
  let forwarderAddress: string;
  let fresh: ReturnType<typeof freshPayoutWallet>;

  beforeEach(async () => {
    s = await deployScenario();
    tokenAddress = await s.token.getAddress();
    forwarderAddress = await s.forwarder.getAddress();
    fresh = freshPayoutWallet();
    await s.underlying.mint(s.network.address, 1000n);
    await s.underlying.connect(s.network).approve(tokenAddress, 1000n);
    await s.token.connect(s.network).wrap(fresh.address, 1000n);
  });

  const balanceOf = async (who: Signer) =>
    fhevm.userDecryptEuint(
      FhevmType.euint64,
      await s.token.confidentialBalanceOf(await who.getAddress()),
      tokenAddress,
      who,
    );

  /** An encrypted amount for a forwarded call: the fhEVM checks inputs against the calling account, the forwarder. */
  const forwardedAmount = (amount: bigint) =>
    fhevm.createEncryptedInput(tokenAddress, forwarderAddress).add64(amount).encrypt();

  /** Sends `data` to the token from the forwarder's own address (impersonated), as `execute` does. */
  const asForwarder = async (data: string) => {
    await network.provider.send("hardhat_impersonateAccount", [forwarderAddress]);
    await network.provider.send("hardhat_setBalance", [forwarderAddress, "0x56BC75E2D63100000"]);
    const forwarder = await ethers.getSigner(forwarderAddress);
    return forwarder.sendTransaction({ to: tokenAddress, data });
  };

  const transferData = async (to: string, amount: bigint) => {
    const input = await forwardedAmount(amount);
    return s.token.interface.encodeFunctionData("confidentialTransfer(address,bytes32,bytes)", [
      to,
      input.handles[0],
      input.inputProof,
    ]);
  };

  it("trusts the deployment's forwarder", async () => {
    expect(await s.token.trustedForwarder()).to.equal(forwarderAddress);
    expect(await s.token.isTrustedForwarder(forwarderAddress)).to.equal(true);
  });

  it("transfers from an address without ETH, by signature, the relayer paying the gas", async () => {
    const recipient = freshPayoutWallet();
    const request = await signForwardRequest(
      s.forwarder,
      fresh,
      tokenAddress,
      await transferData(recipient.address, 300n),
    );
    await expect(s.forwarder.connect(s.outsider).execute(request)).to.emit(s.token, "ConfidentialTransfer");
    expect(await balanceOf(fresh)).to.equal(700n);
    expect(await balanceOf(recipient)).to.equal(300n);
    expect(await ethers.provider.getBalance(fresh.address)).to.equal(0n);
    expect(await s.forwarder.nonces(fresh.address)).to.equal(1n);
  });

  it("unwraps to ERC-20 by signature; anyone finalizes with the public decryption", async () => {
    const recipient = freshPayoutWallet();
    const input = await forwardedAmount(250n);
    const data = s.token.interface.encodeFunctionData("unwrap(address,address,bytes32,bytes)", [
      fresh.address,
      recipient.address,
      input.handles[0],
      input.inputProof,
    ]);
    const receipt = await (
      await s.forwarder.execute(await signForwardRequest(s.forwarder, fresh, tokenAddress, data))
    ).wait();
    const requested = receipt!.logs
      .filter((log) => log.address === tokenAddress)
      .map((log) => s.token.interface.parseLog(log))
      .find((event) => event?.name === "UnwrapRequested");
    const requestId = requested!.args.unwrapRequestId as `0x${string}`;
    const decrypted = await fhevm.publicDecrypt([requestId]);
    await s.token.finalizeUnwrap(requestId, decrypted.clearValues[requestId] as bigint, decrypted.decryptionProof);
    expect(await s.underlying.balanceOf(recipient.address)).to.equal(250n);
    expect(await balanceOf(fresh)).to.equal(750n);
  });

  it("sets an operator by signature, for the signer only", async () => {
    const until = BigInt((await ethers.provider.getBlock("latest"))!.timestamp + 3600);
    const data = s.token.interface.encodeFunctionData("setOperator", [s.outsider.address, until]);
    await s.forwarder.execute(await signForwardRequest(s.forwarder, fresh, tokenAddress, data));
    expect(await s.token.isOperator(fresh.address, s.outsider.address)).to.equal(true);
    expect(await s.token.isOperator(forwarderAddress, s.outsider.address)).to.equal(false);
  });

  describe("attacks", () => {
    it("a relayer cannot change a signed request (another recipient or amount)", async () => {
      const request = await signForwardRequest(s.forwarder, fresh, tokenAddress, await transferData(fresh.address, 1n));
      const tampered = { ...request, data: await transferData(s.outsider.address, 1000n) };
      await expect(s.forwarder.execute(tampered)).to.be.revertedWithCustomError(
        s.forwarder,
        "ERC2771ForwarderInvalidSigner",
      );
    });

    it("a signed request runs once: replaying it reverts", async () => {
      const request = await signForwardRequest(
        s.forwarder,
        fresh,
        tokenAddress,
        await transferData(s.outsider.address, 1n),
      );
      await s.forwarder.execute(request);
      await expect(s.forwarder.execute(request)).to.be.revertedWithCustomError(
        s.forwarder,
        "ERC2771ForwarderInvalidSigner",
      );
    });

    it("another signer cannot move the fresh address's tokens through the forwarder", async () => {
      const thief = freshPayoutWallet();
      const input = await forwardedAmount(1000n);
      const unwrap = s.token.interface.encodeFunctionData("unwrap(address,address,bytes32,bytes)", [
        fresh.address,
        thief.address,
        input.handles[0],
        input.inputProof,
      ]);
      const transferFrom = s.token.interface.encodeFunctionData(
        "confidentialTransferFrom(address,address,bytes32,bytes)",
        [fresh.address, thief.address, input.handles[0], input.inputProof],
      );
      for (const data of [unwrap, transferFrom]) {
        // The forwarder does not bubble the reason (it reverts FailedCall, consuming no nonce) …
        await expect(
          s.forwarder.execute(await signForwardRequest(s.forwarder, thief, tokenAddress, data)),
        ).to.be.revertedWithCustomError(s.forwarder, "FailedCall");
        // … which is the token's refusal of the signer, as the forwarder calls it (the signer appended to calldata;
        // ERC-7984's error names the calling account, the forwarder).
        await expect(asForwarder(ethers.concat([data, thief.address])))
          .to.be.revertedWithCustomError(s.token, "ERC7984UnauthorizedSpender")
          .withArgs(fresh.address, forwarderAddress);
      }
      // A thief's forwarded transfer moves its own (empty) balance, not the fresh address's.
      await s.forwarder.execute(
        await signForwardRequest(s.forwarder, thief, tokenAddress, await transferData(thief.address, 5n)),
      );
      expect(await balanceOf(fresh)).to.equal(1000n);
    });

    it("the forwarder is no operator of anyone in a direct call", async () => {
      expect(await s.token.isOperator(fresh.address, forwarderAddress)).to.equal(false);
      const input = await fhevm.createEncryptedInput(tokenAddress, s.outsider.address).add64(1n).encrypt();
      await expect(
        s.token
          .connect(s.outsider)
          ["confidentialTransferFrom(address,address,bytes32,bytes)"](
            fresh.address,
            s.outsider.address,
            input.handles[0],
            input.inputProof,
          ),
      ).to.be.revertedWithCustomError(s.token, "ERC7984UnauthorizedSpender");
    });
  });
});
