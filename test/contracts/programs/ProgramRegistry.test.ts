import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers } from "hardhat";
import type { RoundManager } from "typechain-types";
import { PUBLIC_KEY_HASH, SHAPLEY_SAMPLED } from "../fixtures";

// ProgramRegistry is abstract; the RoundManager hub is its deployable form.
describe("ProgramRegistry", () => {
  let programs: RoundManager;
  let network: HardhatEthersSigner;
  let coprocessor: HardhatEthersSigner;
  let custodian: HardhatEthersSigner;
  let token: HardhatEthersSigner;

  beforeEach(async () => {
    [network, coprocessor, custodian, token] = await ethers.getSigners();
    programs = await ethers.deployContract("RoundManager");
  });

  const create = (overrides: Partial<Record<"coprocessor" | "custodian" | "token", string>> = {}) =>
    programs
      .connect(network)
      .createProgram(
        overrides.coprocessor ?? coprocessor.address,
        overrides.custodian ?? custodian.address,
        PUBLIC_KEY_HASH,
        SHAPLEY_SAMPLED,
        overrides.token ?? token.address,
      );

  it("creates programs with ids from 1, the caller as network, and emits every field", async () => {
    await expect(create())
      .to.emit(programs, "ProgramCreated")
      .withArgs(
        1n,
        network.address,
        coprocessor.address,
        custodian.address,
        token.address,
        PUBLIC_KEY_HASH,
        SHAPLEY_SAMPLED,
      );
    await create();
    expect(await programs.programCount()).to.equal(2n);
    const program = await programs.program(1n);
    expect(program.network).to.equal(network.address);
    expect(program.coprocessor).to.equal(coprocessor.address);
    expect(program.custodian).to.equal(custodian.address);
    expect(program.payoutToken).to.equal(token.address);
    expect(program.publicKeyHash).to.equal(PUBLIC_KEY_HASH);
    expect(program.valuationMethod).to.equal(BigInt(SHAPLEY_SAMPLED));
  });

  for (const role of ["coprocessor", "custodian", "token"] as const) {
    it(`reverts when the ${role} is the zero address`, async () => {
      await expect(create({ [role]: ethers.ZeroAddress }))
        .to.be.revertedWithCustomError(programs, "ProgramZeroAddress")
        .withArgs(role === "token" ? "payoutToken" : role);
    });
  }

  it("reverts when the public key hash is zero", async () => {
    await expect(
      programs.createProgram(coprocessor.address, custodian.address, ethers.ZeroHash, 1, token.address),
    ).to.be.revertedWithCustomError(programs, "ProgramZeroPublicKeyHash");
  });

  it("reverts reading an unknown program", async () => {
    await expect(programs.program(7n)).to.be.revertedWithCustomError(programs, "ProgramNotFound").withArgs(7n);
  });
});
