import { expect } from "chai";
import { roundLedger } from "../../../scripts/bench/round-ledger";

describe("bench:round's books", () => {
  const flows = { pool: 1_000n, claimed: [600n, 400n, 0n], settled: [600n, 400n, 0n], unallocated: 0n, unclaimed: 0n };

  it("loses nothing when the claims add up to the pool and the distributor owes nothing more", () => {
    expect(roundLedger(flows)).to.deep.equal({ pool: 1_000n, claimed: 1_000n, settled: 1_000n, lost: 0n });
    // A remainder the settlement left unallocated is the network's to recover, not lost.
    expect(
      roundLedger({ ...flows, claimed: [600n, 390n, 0n], settled: [600n, 390n, 0n], unallocated: 10n }).lost,
    ).to.equal(0n);
  });

  it("counts a claim paid short, a unit nobody can account for and a debt left in the distributor", () => {
    expect(roundLedger({ ...flows, claimed: [600n, 399n, 0n], unclaimed: 1n }).lost).to.equal(3n);
    expect(roundLedger({ ...flows, claimed: [600n, 400n, 1n] }).lost).to.equal(2n);
    expect(roundLedger({ ...flows, pool: 1_001n }).lost).to.equal(1n);
  });

  it("refuses a negative pool", () => {
    expect(() => roundLedger({ ...flows, pool: -1n })).to.throw(RangeError, /-1/);
  });
});
