import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, run } from "./processes";

interface DemoResult {
  rounds: number;
  contributors: number;
  phi: number[][];
  royalties: number[][];
  flagged: number[];
  accuracy: number[];
  auditPassed: boolean;
  anonymous: number[];
  custody: "committee" | "single-custodian";
  committee?: { members: number; threshold: number; releasedBy: number[][] };
}

// `npm run demo -- --quick --json`: one real round, 4 contributors as separate processes on a real local node, under
// the default custody: a 2-of-3 committee, each member its own `custodian run --member K` process.
describe("end to end: the quick demo round", function () {
  let home: string;
  let result: DemoResult;
  let stdout: string;

  before(async function () {
    home = mkdtempSync(join(tmpdir(), "ciphershare-demo-"));
    const demo = await run(
      [join(ROOT, "scripts", "demo", "royalty-round.ts"), "--quick", "--json", "--home", home],
      {},
      join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
    );
    stdout = demo.stdout;
    expect(demo.code, demo.stderr).to.equal(0);
    result = demo.json as DemoResult;
  });

  after(() => rmSync(home, { recursive: true, force: true }));

  it("ends with the JSON summary as the last stdout line, nothing else on stdout", () => {
    expect(stdout.trim().split("\n")).to.have.length(1);
    expect(result).to.include({ rounds: 1, contributors: 4, auditPassed: true });
    expect(result.phi).to.have.length(1);
    expect(result.phi[0]).to.have.length(4);
  });

  it("releases through the 2-of-3 committee: two distinct members' partial decryptions, the audit passing", () => {
    expect(result.custody).to.equal("committee");
    expect(result.committee).to.include({ members: 3, threshold: 2 });
    const [released] = result.committee!.releasedBy;
    expect(result.committee!.releasedBy).to.have.length(1);
    expect(released).to.have.length(2);
    expect(new Set(released).size).to.equal(2);
    for (const member of released) expect(member).to.be.oneOf([1, 2, 3]);
    expect(result.auditPassed).to.equal(true);
  });

  it("gives the poisoned client and the free rider the lowest φ and no royalty", () => {
    const [phi] = result.phi;
    const [royalties] = result.royalties;
    const honest = [0, 1];
    for (const bad of [2, 3]) {
      expect(phi[bad]).to.be.at.most(0);
      for (const good of honest) expect(phi[bad]).to.be.below(phi[good]);
      expect(royalties[bad]).to.equal(0);
    }
    expect(result.flagged).to.have.members([2, 3]);
    for (const good of honest) expect(royalties[good]).to.be.above(0);
    // Contributors #1 and #3 claimed anonymously (at fresh sealed addresses): all claims still pay the pool exactly.
    expect(result.anonymous).to.deep.equal([1, 3]);
    expect(royalties.reduce((a, b) => a + b, 0)).to.equal(1_000_000_000); // the whole pool, exactly
  });

  it("trains a useful global model and writes the contribution chart", () => {
    expect(result.accuracy[0]).to.be.above(0.3); // chance is 0.1
    const chart = join(home, "contributions.svg");
    expect(existsSync(chart)).to.equal(true);
    expect(readFileSync(chart, "utf8")).to.match(/^<svg[\s\S]*<\/svg>\n$/);
  });
});
