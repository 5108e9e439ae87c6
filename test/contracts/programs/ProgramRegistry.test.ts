import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers } from "hardhat";
import type { RoundManager } from "typechain-types";
import { ProgramKind } from "@ciphershare/protocol/chain/constants";
import { BASE_MODEL_HASH, PUBLIC_KEY_HASH, SHAPLEY_SAMPLED } from "../fixtures";

// ProgramRegistry is abstract; the RoundManager hub is its deployable form.
describe("ProgramRegistry", () => {
  let programs: RoundManager;
  let network: HardhatEthersSigner;
  let coprocessor: HardhatEthersSigner;
  let custodian: HardhatEthersSigner;
  let token: HardhatEthersSigner;
  let outsider: HardhatEthersSigner;

  beforeEach(async () => {
    [network, coprocessor, custodian, token, outsider] = await ethers.getSigners();
    programs = await ethers.deployContract("RoundManager");
  });

  type ProgramConfig = Parameters<RoundManager["createProgram"]>[0];

  const config = (overrides: Partial<ProgramConfig> = {}): ProgramConfig => ({
    coprocessor: coprocessor.address,
    custodian: custodian.address,
    payoutToken: token.address,
    publicKeyHash: PUBLIC_KEY_HASH,
    valuationMethod: SHAPLEY_SAMPLED,
    minContributors: 0,
    maxCommitments: 0,
    recoveryPeriod: 0,
    commitDeposit: 0n,
    kind: ProgramKind.Federated,
    buyerKeyHash: ethers.ZeroHash,
    termsHash: ethers.ZeroHash,
    ...overrides,
  });
  const create = (overrides: Partial<ProgramConfig> = {}) => programs.connect(network).createProgram(config(overrides));

  describe("createProgram", () => {
    it("creates programs with ids from 1, the caller as network, and emits the roles", async () => {
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
          ProgramKind.Federated,
          ethers.ZeroHash,
          ethers.ZeroHash,
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

    it("resolves zero terms to the defaults: 3 contributors, 2,000 commitments, 30 days, no deposit", async () => {
      await create();
      const program = await programs.program(1n);
      expect(program.minContributors).to.equal(await programs.DEFAULT_MIN_CONTRIBUTORS());
      expect(program.minContributors).to.equal(3n);
      expect(program.maxCommitments).to.equal(2000n);
      expect(program.recoveryPeriod).to.equal(30n * 86_400n);
      expect(program.commitDeposit).to.equal(0n);
    });

    it("keeps explicit terms", async () => {
      await create({ minContributors: 5, maxCommitments: 40, recoveryPeriod: 7200, commitDeposit: 10n ** 15n });
      const program = await programs.program(1n);
      expect([
        program.minContributors,
        program.maxCommitments,
        program.recoveryPeriod,
        program.commitDeposit,
      ]).to.deep.equal([5n, 40n, 7200n, 10n ** 15n]);
    });

    for (const role of ["coprocessor", "custodian", "payoutToken"] as const) {
      it(`reverts when the ${role} is the zero address`, async () => {
        await expect(create({ [role]: ethers.ZeroAddress }))
          .to.be.revertedWithCustomError(programs, "ProgramZeroAddress")
          .withArgs(role);
      });
    }

    it("reverts when the public key hash is zero", async () => {
      await expect(create({ publicKeyHash: ethers.ZeroHash })).to.be.revertedWithCustomError(
        programs,
        "ProgramZeroPublicKeyHash",
      );
    });

    it("records a training program's kind, buyer key and terms, and emits them", async () => {
      const buyerKeyHash = ethers.id("buyer key bundle");
      const termsHash = ethers.id('{"dpEpsilon":null,"features":64,"lambda":0.001,"outputs":10}');
      await expect(create({ kind: ProgramKind.Training, buyerKeyHash, termsHash }))
        .to.emit(programs, "ProgramCreated")
        .withArgs(
          1n,
          network.address,
          coprocessor.address,
          custodian.address,
          token.address,
          PUBLIC_KEY_HASH,
          SHAPLEY_SAMPLED,
          ProgramKind.Training,
          buyerKeyHash,
          termsHash,
        );
      const program = await programs.program(1n);
      expect([program.kind, program.buyerKeyHash, program.termsHash]).to.deep.equal([
        BigInt(ProgramKind.Training),
        buyerKeyHash,
        termsHash,
      ]);
    });

    it("a federated program records its kind and no buyer key; a usage program too", async () => {
      await create();
      await create({ kind: ProgramKind.Usage, termsHash: ethers.id("usage terms") });
      const federated = await programs.program(1n);
      const usage = await programs.program(2n);
      expect([federated.kind, federated.buyerKeyHash, federated.termsHash]).to.deep.equal([
        BigInt(ProgramKind.Federated),
        ethers.ZeroHash,
        ethers.ZeroHash,
      ]);
      expect([usage.kind, usage.buyerKeyHash, usage.termsHash]).to.deep.equal([
        BigInt(ProgramKind.Usage),
        ethers.ZeroHash,
        ethers.id("usage terms"),
      ]);
    });

    it("reverts when a training program names no buyer key", async () => {
      await expect(create({ kind: ProgramKind.Training })).to.be.revertedWithCustomError(
        programs,
        "ProgramZeroBuyerKeyHash",
      );
    });

    it("reverts when a federated or usage program names a buyer key", async () => {
      const buyerKeyHash = ethers.id("buyer key bundle");
      for (const kind of [ProgramKind.Federated, ProgramKind.Usage]) {
        await expect(create({ kind, buyerKeyHash }))
          .to.be.revertedWithCustomError(programs, "ProgramUnexpectedBuyerKeyHash")
          .withArgs(kind, buyerKeyHash);
      }
    });

    it("reverts on an unknown kind", async () => {
      await expect(create({ kind: 3 })).to.be.reverted;
    });

    it("reverts on a cap above the publishable limit, and on a minimum above the cap", async () => {
      const limit = await programs.MAX_COMMITMENTS_LIMIT();
      await expect(create({ maxCommitments: limit + 1n }))
        .to.be.revertedWithCustomError(programs, "ProgramCapAboveLimit")
        .withArgs(limit + 1n, limit);
      await expect(create({ minContributors: 11, maxCommitments: 10 }))
        .to.be.revertedWithCustomError(programs, "ProgramMinimumAboveCap")
        .withArgs(11n, 10n);
    });
  });

  describe("acceptProgram", () => {
    beforeEach(async () => {
      await create();
    });

    it("names one custodian who has not accepted: the program is inactive", async () => {
      expect(await programs.custodians(1n)).to.deep.equal([custodian.address]);
      const custody = await programs.custodyOf(1n);
      expect([custody.memberCount, custody.threshold, custody.acceptedCount]).to.deep.equal([1n, 1n, 0n]);
      expect(await programs.hasAccepted(1n, custodian.address)).to.equal(false);
      expect(await programs.isProgramActive(1n)).to.equal(false);
    });

    it("activates the program when its custodian accepts", async () => {
      await expect(programs.connect(custodian).acceptProgram(1n))
        .to.emit(programs, "ProgramAccepted")
        .withArgs(1n, custodian.address);
      expect(await programs.hasAccepted(1n, custodian.address)).to.equal(true);
      expect((await programs.custodyOf(1n)).acceptedCount).to.equal(1n);
      expect(await programs.isProgramActive(1n)).to.equal(true);
    });

    it("reverts for anyone but the named custodian, a second acceptance and an unknown program", async () => {
      for (const other of [network, coprocessor, outsider]) {
        await expect(programs.connect(other).acceptProgram(1n))
          .to.be.revertedWithCustomError(programs, "NotProgramCustodian")
          .withArgs(1n, other.address);
      }
      await programs.connect(custodian).acceptProgram(1n);
      await expect(programs.connect(custodian).acceptProgram(1n))
        .to.be.revertedWithCustomError(programs, "ProgramAlreadyAccepted")
        .withArgs(1n, custodian.address);
      await expect(programs.connect(custodian).acceptProgram(9n))
        .to.be.revertedWithCustomError(programs, "ProgramNotFound")
        .withArgs(9n);
    });

    it("an inactive program cannot open rounds", async () => {
      const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 1000n;
      await expect(programs.connect(network).openRound(1n, BASE_MODEL_HASH, deadline, 60, 60))
        .to.be.revertedWithCustomError(programs, "ProgramNotActive")
        .withArgs(1n);
    });
  });

  it("reverts reading an unknown program", async () => {
    await expect(programs.program(7n)).to.be.revertedWithCustomError(programs, "ProgramNotFound").withArgs(7n);
    await expect(programs.custodyOf(7n)).to.be.revertedWithCustomError(programs, "ProgramNotFound").withArgs(7n);
    await expect(programs.custodians(7n)).to.be.revertedWithCustomError(programs, "ProgramNotFound").withArgs(7n);
    await expect(programs.isProgramActive(7n)).to.be.revertedWithCustomError(programs, "ProgramNotFound").withArgs(7n);
  });
  describe("setInputAuditors", () => {
    it("names the program's input auditors (network only, before activation) and emits them", async () => {
      await create();
      expect(await programs.inputAuditors(1n)).to.deep.equal([]);
      await expect(programs.connect(network).setInputAuditors(1n, [outsider.address, token.address]))
        .to.emit(programs, "InputAuditorsNamed")
        .withArgs(1n, [outsider.address, token.address]);
      expect(await programs.inputAuditors(1n)).to.deep.equal([outsider.address, token.address]);
      await programs.connect(network).setInputAuditors(1n, [token.address]);
      expect(await programs.inputAuditors(1n)).to.deep.equal([token.address]);
      await programs.connect(network).setInputAuditors(1n, []);
      expect(await programs.inputAuditors(1n)).to.deep.equal([]);
    });

    it("is the network's call only", async () => {
      await create();
      await expect(programs.connect(outsider).setInputAuditors(1n, [outsider.address]))
        .to.be.revertedWithCustomError(programs, "NotProgramNetwork")
        .withArgs(1n, outsider.address);
      await expect(programs.connect(custodian).setInputAuditors(1n, [custodian.address]))
        .to.be.revertedWithCustomError(programs, "NotProgramNetwork")
        .withArgs(1n, custodian.address);
    });

    it("is fixed once the program is active: the custodians accepted it with its auditors", async () => {
      await create();
      await programs.connect(network).setInputAuditors(1n, [outsider.address]);
      await programs.connect(custodian).acceptProgram(1n);
      await expect(programs.connect(network).setInputAuditors(1n, [network.address]))
        .to.be.revertedWithCustomError(programs, "InputAuditorsFixed")
        .withArgs(1n);
      expect(await programs.inputAuditors(1n)).to.deep.equal([outsider.address]);
    });

    it("refuses the zero address, a repeated auditor and more than MAX_INPUT_AUDITORS", async () => {
      await create();
      await expect(programs.connect(network).setInputAuditors(1n, [outsider.address, ethers.ZeroAddress]))
        .to.be.revertedWithCustomError(programs, "InputAuditorInvalid")
        .withArgs(1n, ethers.ZeroAddress);
      await expect(programs.connect(network).setInputAuditors(1n, [outsider.address, token.address, outsider.address]))
        .to.be.revertedWithCustomError(programs, "InputAuditorInvalid")
        .withArgs(2n, outsider.address);
      const limit = await programs.MAX_INPUT_AUDITORS();
      const many = Array.from({ length: Number(limit) + 1 }, () => ethers.Wallet.createRandom().address);
      await expect(programs.connect(network).setInputAuditors(1n, many))
        .to.be.revertedWithCustomError(programs, "InputAuditorsAboveLimit")
        .withArgs(limit + 1n, limit);
      await programs.connect(network).setInputAuditors(1n, many.slice(0, Number(limit)));
      expect(await programs.inputAuditors(1n)).to.have.length(Number(limit));
    });

    it("reverts for an unknown program", async () => {
      await expect(programs.inputAuditors(7n)).to.be.revertedWithCustomError(programs, "ProgramNotFound").withArgs(7n);
      await expect(programs.connect(network).setInputAuditors(7n, []))
        .to.be.revertedWithCustomError(programs, "ProgramNotFound")
        .withArgs(7n);
    });
  });
});
