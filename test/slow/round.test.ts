import { expect } from "chai";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { SHARES_PER_SETTLEMENT } from "@ciphershare/protocol/chain/constants";

// `npm run test:slow` (not part of `npm test`): a 200-contributor round end to end through `npm run bench:round`,
// on its own in-process fhEVM chain, valued under encryption (the default: 20,300 encrypted Gram terms); about
// 16 minutes on a quiet 2-core machine (estimated from the per-term cost) and up to ~7 GB of memory.
describe("slow: a round of 200 contributors end to end (bench:round)", function () {
  this.timeout(3_600_000);

  it("registers, commits, reveals, publishes, settles in batches within the limits and pays every unit", async () => {
    const { stdout } = await promisify(execFile)("npx", ["tsx", "scripts/bench/round.ts", "--json"], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(result.contributors).to.equal(200);
    expect(result.lost).to.equal(0);
    expect(result.claimed).to.equal(result.pool);
    expect(result.settleTransactions).to.equal(Math.ceil(200 / SHARES_PER_SETTLEMENT));
    expect(result.maxHcuPerTx).to.be.at.most(20_000_000); // HCULimit.sol, per transaction
    expect(result.maxHcuDepthPerTx).to.be.at.most(5_000_000);
    expect(result.maxGasPerTx).to.be.at.most(2 ** 24); // EIP-7825
    expect(result.transactions).to.be.at.least(4 * 200); // register, commit, reveal, claim each
    expect(result.valuation).to.equal("encrypted");
    expect(result.valuationMethod).to.equal("exact");
    expect(result.valuationMaxRelErrorUnflooded).to.be.at.most(1e-6);
    expect(result.inconsistentProjections).to.deep.equal([]);
  });
});
