import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { referenceShapley, type ValuationProblem } from "@ciphershare/coprocessor/shapley/utility";
import { classShapley } from "../coprocessor/shapley/coalition-classes";
import { randomProblem } from "../coprocessor/shapley/fixtures";

const run = promisify(execFile);
const bin = join(__dirname, "..", "..", "bin", "ciphershare.js");

describe("cli: ciphershare value", function () {
  this.timeout(300_000);
  const problem = randomProblem({ n: 4, d: 5, c: 2, rows: 16, seed: 21 });
  const dir = mkdtempSync(join(tmpdir(), "ciphershare-value-"));
  const file = (name: string, m: Matrix) => {
    const path = join(dir, name);
    writeFileSync(path, serializeNpy(m.data, [m.rows, m.cols]));
    return path;
  };
  const argsFor = (p: ValuationProblem, prefix: string) => [
    "value",
    "--base",
    file(`${prefix}base.npy`, p.base),
    "--x",
    file(`${prefix}X.npy`, p.x),
    "--y",
    file(`${prefix}Y.npy`, p.y),
    ...p.models.flatMap((w, i) => ["--model", `${file(`${prefix}client${i}.npy`, w)}:${p.sampleCounts[i]}`]),
  ];
  const args = argsFor(problem, "");
  const reference = referenceShapley(problem);
  const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop()!);
  const relative = (phi: number[]) =>
    Math.max(...phi.map((v, k) => Math.abs(v - reference.phi[k]))) / Math.max(...reference.phi.map(Math.abs));

  it("--plaintext --json prints the exact φ of the explicit reference", async () => {
    const { stdout } = await run(process.execPath, [bin, ...args, "--plaintext", "--json"]);
    const out = lastJson(stdout);
    expect(out.method).to.equal("exact");
    expect(out.encrypted).to.equal(false);
    expect(relative(out.phi)).to.be.below(1e-9);
    expect(out.utilityEmpty).to.be.closeTo(reference.utilityEmpty, 1e-12);
    expect(out.utilityAll).to.be.closeTo(reference.utilityAll, 1e-9);
    expect(out.seconds).to.be.a("number");
  });

  it("the encrypted path releases φ within 1e-5 relative (noise-flooded)", async () => {
    const { stdout } = await run(process.execPath, [bin, ...args, "--exact", "--workers", "0", "--json"]);
    const out = lastJson(stdout);
    expect(out.encrypted).to.equal(true);
    expect(relative(out.phi)).to.be.below(1e-5);
    expect(out.utilityAll).to.be.closeTo(reference.utilityAll, 1e-5 * Math.abs(reference.utilityAll));
  });

  it("--samples reports a sampled estimate with standard errors", async () => {
    const { stdout } = await run(process.execPath, [bin, ...args, "--samples", "200", "--plaintext", "--json"]);
    const out = lastJson(stdout);
    expect(out.method).to.equal("sampled");
    expect(out.standardError).to.have.length(4);
    expect(out.coefficientStandardError.norm).to.have.length(4);
  });

  it("--samples under encryption releases only φ and reports the coefficients' standard error", async () => {
    const { stdout } = await run(process.execPath, [bin, ...args, "--samples", "200", "--workers", "0", "--json"]);
    const out = lastJson(stdout);
    expect(out).to.include({ method: "sampled", encrypted: true });
    expect(out.phi).to.have.length(4);
    expect(out).to.not.have.property("standardError");
    expect(out.coefficientStandardError.maxRelative).to.be.above(0);
    expect(out.coefficientStandardError.relative).to.have.length(4);
  });

  for (const { n, counts } of [
    { n: 30, counts: [1, 1e6, 37, 500, 12] },
    { n: 60, counts: [3, 700, 41, 1e5] },
  ]) {
    it(`--exact --plaintext at n = ${n} matches φ from explicit coalition models (by coalition class)`, async () => {
      // Clients come in types (same model, same count), so 2^n coalitions reduce to Π(size + 1) classes.
      const source = randomProblem({ n: counts.length, d: 4, c: 2, rows: 12, seed: n });
      const typeOf = Array.from({ length: n }, (_, i) => i % counts.length);
      const many = {
        ...source,
        models: typeOf.map((t) => source.models[t]),
        sampleCounts: typeOf.map((t) => counts[t]),
      };
      const expected = classShapley(many, typeOf);
      const { stdout } = await run(process.execPath, [
        bin,
        ...argsFor(many, `n${n}-`),
        "--exact",
        "--plaintext",
        "--json",
      ]);
      const out = lastJson(stdout);
      expect(out).to.include({ method: "exact", encrypted: false });
      const scale = Math.max(...expected.map(Math.abs));
      expected.forEach((phi, k) => expect(Math.abs(out.phi[k] - phi)).to.be.below(1e-10 * scale));
      const sum = expected.reduce((a, b) => a + b, 0);
      expect(out.utilityAll - out.utilityEmpty).to.be.closeTo(sum, 1e-10 * Math.abs(sum));
    });
  }

  it("rejects a model without a sample count with one clear line", async () => {
    const bad = args.map((a) => (a.endsWith(`:${problem.sampleCounts[0]}`) ? a.split(":")[0] : a));
    const error = await run(process.execPath, [bin, ...bad, "--plaintext"]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((error as { code: number }).code).to.equal(1);
    expect((error as { stderr: string }).stderr).to.match(/--model needs the form/);
  });
});
