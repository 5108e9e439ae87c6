import { expect } from "chai";
import fc from "fast-check";
import { SHARES_PER_SETTLEMENT } from "@ciphershare/protocol/chain/constants";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { ProgramState } from "@ciphershare/coprocessor/chain/contracts";
import { programRefusals, settlementBatches } from "@ciphershare/coprocessor/roles/custodian";

// The custodian's pure decisions: which program terms it accepts (a program merely naming it gets no service until
// it accepts), and how a round's shares are cut into `settle` calls that fit one transaction.
describe("custodian: acceptance policy and settlement batches", () => {
  const CUSTODIAN = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as Address;
  const BUNDLE = `0x${"b1".repeat(32)}` as Hex;
  const program = (terms: Partial<ProgramState> = {}): ProgramState => ({
    id: 1n,
    network: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    coprocessor: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    custodian: CUSTODIAN,
    publicKeyHash: BUNDLE,
    valuationMethod: 1,
    payoutToken: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    minContributors: 3,
    maxCommitments: 2000,
    recoveryPeriod: 30 * 24 * 3600,
    commitDeposit: 0n,
    kind: 0,
    buyerKeyHash: `0x${"0".repeat(64)}`,
    termsHash: `0x${"0".repeat(64)}`,
    ...terms,
  });

  it("accepts a program with a crowd of at least 3, its own key and exact Shapley", () => {
    expect(programRefusals(program(), CUSTODIAN, BUNDLE)).to.deep.equal([]);
    expect(programRefusals(program({ minContributors: 50 }), CUSTODIAN.toLowerCase() as Address, BUNDLE)).to.deep.equal(
      [],
    );
  });

  it("refuses a thin crowd (an aggregate of one or two reveals an update), another key, another custodian, another method", () => {
    for (const min of [1, 2]) {
      expect(programRefusals(program({ minContributors: min }), CUSTODIAN, BUNDLE).join()).to.contain(
        `minimum crowd of ${min}`,
      );
    }
    expect(programRefusals(program({ publicKeyHash: `0x${"c2".repeat(32)}` }), CUSTODIAN, BUNDLE).join()).to.contain(
      "not this custodian's bundle",
    );
    expect(
      programRefusals(program({ custodian: "0x90F79bf6EB2c4f870365E785982E1f101E93b906" }), CUSTODIAN).join(),
    ).to.contain("names another custodian");
    expect(programRefusals(program({ valuationMethod: 2 }), CUSTODIAN).join()).to.contain("valuation method 2");
  });

  it("cuts n shares into consecutive batches of at most 67 that cover each share exactly once", () => {
    expect(SHARES_PER_SETTLEMENT).to.equal(67);
    expect(settlementBatches(0)).to.deep.equal([]);
    expect(settlementBatches(67)).to.deep.equal([[0, 67]]);
    expect(settlementBatches(68)).to.deep.equal([
      [0, 67],
      [67, 68],
    ]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), (n) => {
        const batches = settlementBatches(n);
        expect(batches.length).to.equal(Math.ceil(n / SHARES_PER_SETTLEMENT));
        let next = 0;
        for (const [start, end] of batches) {
          expect(start).to.equal(next);
          expect(end - start).to.be.within(1, SHARES_PER_SETTLEMENT);
          next = end;
        }
        expect(next).to.equal(n);
      }),
    );
  });
});
