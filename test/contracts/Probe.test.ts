import { FhevmType } from "@fhevm/hardhat-plugin";
import { expect } from "chai";
import { ethers, fhevm } from "hardhat";

describe("Probe", () => {
  it("round-trips an encrypted value", async () => {
    const [alice] = await ethers.getSigners();
    const probe = await ethers.deployContract("Probe");
    const addr = await probe.getAddress();
    const enc = await fhevm.createEncryptedInput(addr, alice.address).add64(42n).encrypt();
    const tx = await probe.set(enc.handles[0], enc.inputProof);
    const r = await tx.wait();
    console.log("hcu", fhevm.computeTransactionHCU(r!));
    const v = await fhevm.userDecryptEuint(FhevmType.euint64, await probe.value(), addr, alice);
    expect(v).to.equal(42n);
  });
});
