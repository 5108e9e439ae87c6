import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers } from "hardhat";
import { latestTimestamp, signRegistration } from "@ciphershare/scripts/lib/chain";
import { blockTimeFrom } from "../fixtures";
import type { ContributorRegistry } from "typechain-types";

describe("ContributorRegistry", () => {
  let registry: ContributorRegistry;
  let alice: HardhatEthersSigner;
  let bob: HardhatEthersSigner;
  let relayer: HardhatEthersSigner;

  beforeEach(async () => {
    [alice, bob, relayer] = await ethers.getSigners();
    registry = await ethers.deployContract("ContributorRegistry");
  });

  describe("register", () => {
    it("registers the caller, emits the metadata URI and counts it", async () => {
      await expect(registry.connect(alice).register("ipfs://alice.json"))
        .to.emit(registry, "ContributorRegistered")
        .withArgs(alice.address, alice.address, "ipfs://alice.json");
      expect(await registry.isRegistered(alice.address)).to.equal(true);
      expect(await registry.registeredAt(alice.address)).to.equal(await latestTimestamp());
      expect(await registry.contributorCount()).to.equal(1n);
      expect(await registry.isRegistered(bob.address)).to.equal(false);
      expect(await registry.registeredAt(bob.address)).to.equal(0n);
    });

    it("accepts an empty metadata URI", async () => {
      await expect(registry.connect(bob).register(""))
        .to.emit(registry, "ContributorRegistered")
        .withArgs(bob.address, bob.address, "");
    });

    it("reverts when already registered", async () => {
      await registry.connect(alice).register("");
      await expect(registry.connect(alice).register(""))
        .to.be.revertedWithCustomError(registry, "ContributorAlreadyRegistered")
        .withArgs(alice.address);
    });
  });

  describe("registerWithSignature", () => {
    it("registers the signer gaslessly: anyone submits, the nonce is used", async () => {
      const deadline = (await latestTimestamp()) + 3600n;
      const signature = await signRegistration(registry, alice, "ipfs://alice.json", deadline);
      await expect(
        registry.connect(relayer).registerWithSignature(alice.address, "ipfs://alice.json", deadline, signature),
      )
        .to.emit(registry, "ContributorRegistered")
        .withArgs(alice.address, relayer.address, "ipfs://alice.json");
      expect(await registry.isRegistered(alice.address)).to.equal(true);
      expect(await registry.isRegistered(relayer.address)).to.equal(false);
      expect(await registry.nonces(alice.address)).to.equal(1n);
    });

    it("exposes the EIP-712 domain separator it verifies against", async () => {
      const { chainId } = await ethers.provider.getNetwork();
      expect(await registry.DOMAIN_SEPARATOR()).to.equal(
        ethers.TypedDataEncoder.hashDomain({
          name: "CipherShare ContributorRegistry",
          version: "1",
          chainId,
          verifyingContract: await registry.getAddress(),
        }),
      );
    });

    it("accepts a smart-contract wallet's registration signed by its owner (ERC-1271)", async () => {
      const wallet = await ethers.deployContract("ERC1271WalletMock", [alice.address]);
      const walletAddress = await wallet.getAddress();
      const deadline = (await latestTimestamp()) + 3600n;
      const signature = await signRegistration(registry, alice, "", deadline, { contributor: walletAddress });
      await expect(registry.connect(relayer).registerWithSignature(walletAddress, "", deadline, signature))
        .to.emit(registry, "ContributorRegistered")
        .withArgs(walletAddress, relayer.address, "");
      const other = await ethers.deployContract("ERC1271WalletMock", [alice.address]);
      const otherAddress = await other.getAddress();
      const byStranger = await signRegistration(registry, bob, "", deadline, { contributor: otherAddress });
      await expect(registry.connect(relayer).registerWithSignature(otherAddress, "", deadline, byStranger))
        .to.be.revertedWithCustomError(registry, "InvalidRegistrationSignature")
        .withArgs(otherAddress);
    });

    it("reverts when the signature expired", async () => {
      const deadline = (await latestTimestamp()) - 1n;
      const signature = await signRegistration(registry, alice, "", deadline);
      const now = await latestTimestamp();
      const tx = registry.connect(relayer).registerWithSignature(alice.address, "", deadline, signature);
      await expect(tx)
        .to.be.revertedWithCustomError(registry, "RegistrationSignatureExpired")
        .withArgs(deadline, blockTimeFrom(now));
    });

    it("reverts when another account signed", async () => {
      const deadline = (await latestTimestamp()) + 3600n;
      const signature = await signRegistration(registry, bob, "", deadline, { contributor: alice.address });
      await expect(registry.connect(relayer).registerWithSignature(alice.address, "", deadline, signature))
        .to.be.revertedWithCustomError(registry, "InvalidRegistrationSignature")
        .withArgs(alice.address);
    });

    it("reverts when the submitted URI differs from the signed one", async () => {
      const deadline = (await latestTimestamp()) + 3600n;
      const signature = await signRegistration(registry, alice, "ipfs://alice.json", deadline);
      await expect(
        registry.connect(relayer).registerWithSignature(alice.address, "ipfs://evil.json", deadline, signature),
      )
        .to.be.revertedWithCustomError(registry, "InvalidRegistrationSignature")
        .withArgs(alice.address);
    });

    it("reverts when a signature is replayed after deregistration", async () => {
      const deadline = (await latestTimestamp()) + 3600n;
      const signature = await signRegistration(registry, alice, "", deadline);
      await registry.connect(relayer).registerWithSignature(alice.address, "", deadline, signature);
      await registry.connect(alice).deregister();
      await expect(registry.connect(relayer).registerWithSignature(alice.address, "", deadline, signature))
        .to.be.revertedWithCustomError(registry, "InvalidRegistrationSignature")
        .withArgs(alice.address);
    });

    it("reverts when the signer is already registered", async () => {
      await registry.connect(alice).register("");
      const deadline = (await latestTimestamp()) + 3600n;
      const signature = await signRegistration(registry, alice, "", deadline);
      await expect(registry.connect(relayer).registerWithSignature(alice.address, "", deadline, signature))
        .to.be.revertedWithCustomError(registry, "ContributorAlreadyRegistered")
        .withArgs(alice.address);
    });
  });

  describe("deregister", () => {
    it("deregisters the caller, who may register again", async () => {
      await registry.connect(alice).register("");
      await registry.connect(bob).register("");
      await expect(registry.connect(alice).deregister())
        .to.emit(registry, "ContributorDeregistered")
        .withArgs(alice.address);
      expect(await registry.isRegistered(alice.address)).to.equal(false);
      expect(await registry.registeredAt(alice.address)).to.equal(0n);
      expect(await registry.contributorCount()).to.equal(1n);
      await registry.connect(alice).register("ipfs://again.json");
      expect(await registry.contributorCount()).to.equal(2n);
    });

    it("reverts when not registered", async () => {
      await expect(registry.connect(alice).deregister())
        .to.be.revertedWithCustomError(registry, "ContributorNotRegistered")
        .withArgs(alice.address);
    });
  });
});
