import { FhevmType } from "@fhevm/hardhat-plugin";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers, fhevm } from "hardhat";
import { encryptAmount } from "@ciphershare/scripts/lib/chain";
import type { RoyaltyToken, TestERC20 } from "typechain-types";
import { expectDecryptionDenied } from "../fixtures";

describe("RoyaltyToken", () => {
  let underlying: TestERC20;
  let token: RoyaltyToken;
  let tokenAddress: string;
  let network: HardhatEthersSigner;
  let alice: HardhatEthersSigner;
  let outsider: HardhatEthersSigner;

  beforeEach(async () => {
    [network, alice, outsider] = await ethers.getSigners();
    underlying = await ethers.deployContract("TestERC20", ["Test USD", "tUSD"]);
    token = await ethers.deployContract("RoyaltyToken", [
      await underlying.getAddress(),
      "CipherShare Royalty",
      "cROY",
      "ipfs://token.json",
      ethers.ZeroAddress, // no forwarder: see forwarded.test.ts for meta-transactions
    ]);
    tokenAddress = await token.getAddress();
    await underlying.mint(network.address, 1_000_000n);
    await underlying.connect(network).approve(tokenAddress, 1_000_000n);
  });

  const balanceOf = async (holder: HardhatEthersSigner) =>
    fhevm.userDecryptEuint(FhevmType.euint64, await token.confidentialBalanceOf(holder.address), tokenAddress, holder);

  it("is an ERC-7984 wrapper of the test ERC-20, one to one at 6 decimals", async () => {
    expect(await token.name()).to.equal("CipherShare Royalty");
    expect(await token.symbol()).to.equal("cROY");
    expect(await token.contractURI()).to.equal("ipfs://token.json");
    expect(await token.underlying()).to.equal(await underlying.getAddress());
    expect(await token.decimals()).to.equal(6n);
    expect(await underlying.decimals()).to.equal(6n);
    expect(await token.rate()).to.equal(1n);
  });

  it("wraps plain ERC-20 into an encrypted balance only its holder can decrypt", async () => {
    await expect(token.connect(network).wrap(network.address, 250_000n)).to.emit(token, "ConfidentialTransfer");
    expect(await underlying.balanceOf(tokenAddress)).to.equal(250_000n);
    expect(await balanceOf(network)).to.equal(250_000n);
    const handle = await token.confidentialBalanceOf(network.address);
    await expectDecryptionDenied(fhevm.userDecryptEuint(FhevmType.euint64, handle, tokenAddress, outsider));
  });

  it("transfers confidentially", async () => {
    await token.connect(network).wrap(network.address, 1000n);
    const input = await encryptAmount(tokenAddress, network.address, 400n);
    await token
      .connect(network)
      ["confidentialTransfer(address,bytes32,bytes)"](alice.address, input.handle, input.inputProof);
    expect(await balanceOf(alice)).to.equal(400n);
    expect(await balanceOf(network)).to.equal(600n);
  });

  it("unwraps back to ERC-20 through a public decryption of the amount", async () => {
    await token.connect(network).wrap(alice.address, 700n);
    const input = await encryptAmount(tokenAddress, alice.address, 300n);
    const tx = await token
      .connect(alice)
      ["unwrap(address,address,bytes32,bytes)"](alice.address, alice.address, input.handle, input.inputProof);
    const receipt = await tx.wait();
    const requested = receipt!.logs
      .map((log) => token.interface.parseLog(log))
      .find((event) => event?.name === "UnwrapRequested");
    const requestId = requested!.args.unwrapRequestId as string;
    const decrypted = await fhevm.publicDecrypt([requestId]);
    await token.finalizeUnwrap(
      requestId,
      decrypted.clearValues[requestId as `0x${string}`] as bigint,
      decrypted.decryptionProof,
    );
    expect(await underlying.balanceOf(alice.address)).to.equal(300n);
    expect(await balanceOf(alice)).to.equal(400n);
  });
});
