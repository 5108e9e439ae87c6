import { expect } from "chai";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../e2e/processes";

// Every role command has --help, and bad input or a missing chain ends with one clear line and exit code 1.
describe("cli: role commands", function () {
  const empty = mkdtempSync(join(tmpdir(), "ciphershare-cli-"));

  it("lists every role and documents each command's options", async () => {
    const help = await run(["--help"]);
    expect(help.code).to.equal(0);
    for (const command of ["node", "network", "contributor", "coprocessor", "custodian", "audit", "value"]) {
      expect(help.stdout).to.contain(command);
    }
    const audit = await run(["audit", "--help"]);
    expect(audit.code).to.equal(0);
    expect(audit.stdout).to.contain("--round").and.to.contain("--json");
    const submit = await run(["contributor", "submit", "--help"]);
    expect(submit.stdout).to.contain("--update").and.to.contain("--behaviour").and.to.contain("--reveal");
    expect(submit.stdout).to.contain("--no-projection");
    const open = await run(["network", "open-round", "--help"]);
    expect(open.stdout).to.contain("--no-projection-factor");
    const reveal = await run(["contributor", "reveal", "--help"]);
    expect(reveal.stdout).to.contain("--round").and.to.contain("--advance-time");
    const accept = await run(["custodian", "accept", "--help"]);
    expect(accept.stdout).to.contain("--program").and.to.contain("--force").and.to.contain("--member");
    const keygen = await run(["custodian", "keygen", "--help"]);
    for (const term of ["--committee", "--members", "--threshold"]) expect(keygen.stdout).to.contain(term);
    const serve = await run(["custodian", "run", "--help"]);
    expect(serve.stdout).to.contain("--member");
    const create = await run(["network", "create-program", "--help"]);
    for (const term of [
      "--min-contributors",
      "--max-commitments",
      "--recovery-period",
      "--commit-deposit",
      "--committee",
    ]) {
      expect(create.stdout).to.contain(term);
    }
    const network = await run(["network", "--help"]);
    for (const command of ["resolve-challenge", "recover-pool", "collect-deposits", "expire"]) {
      expect(network.stdout).to.contain(command);
    }
  });

  it("fails with a clear message when no chain runs in the workspace", async () => {
    const result = await run(["network", "deploy", "--home", empty]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/^ciphershare: No chain to talk to/);
  });

  it("rejects malformed arguments naming the option", async () => {
    const result = await run(["audit", "--round", "first", "--home", empty, "--rpc-url", "http://127.0.0.1:9"]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("--round must be a non-negative integer");
    const missing = await run(["audit", "--home", empty]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain("required option '--round <id>' not specified");
  });

  it("custodian keygen --projections submitted: 14 keys (powers of two and the conjugation), the profile recorded beside the bundle hash", async function () {
    this.timeout(300_000);
    const home = mkdtempSync(join(tmpdir(), "ciphershare-keys-"));
    const env = { CIPHERSHARE_CUSTODIAN_PASSPHRASE: "keys test passphrase" };
    const base = ["custodian", "keygen", "--home", home, "--dimension", "6", "--classes", "3", "--json"];
    const bad = await run([...base, "--projections", "fast"], env);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('"fast"; expected one of submitted, computed');
    const committee = await run([...base, "--projections", "submitted", "--committee"], env);
    expect(committee.code).to.equal(1);
    expect(committee.stderr).to.contain("not available with --committee");
    const result = await run([...base, "--projections", "submitted"], env);
    expect(result.code, result.stderr).to.equal(0);
    const lines = result.stdout.trim().split("\n");
    const keys = JSON.parse(lines[lines.length - 1]) as { galoisKeys: number; bundleBytes: number };
    expect(keys.galoisKeys).to.equal(14);
    const pointer = JSON.parse(readFileSync(join(home, "public-bundle.json"), "utf8")) as {
      projections: string;
    };
    expect(pointer.projections).to.equal("submitted");
  });

  it("refuses to generate custodian keys without a passphrase", async () => {
    const result = await run(["custodian", "keygen", "--home", empty], { CIPHERSHARE_CUSTODIAN_PASSPHRASE: "" });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("CIPHERSHARE_CUSTODIAN_PASSPHRASE");
  });
});
