import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appRoleEnvironment } from "@ciphershare/scripts/app/services";
import { CONTRIBUTOR_PASSPHRASE_ENV } from "@ciphershare/coprocessor/roles/anonymous-payouts";
import { CUSTODIAN_PASSPHRASE_ENV, roleEnvironment, runCiphershare } from "@ciphershare/scripts/lib/cli-process";

// No secret or passphrase reaches the coprocessor's process: the demo, `npm run app` and the tests start every role
// through `roleEnvironment`, which hands the custodian's passphrase to `custodian …` processes only and strips it
// from every other one, even when the parent process holds it.
describe("role environments: the custodian's passphrase reaches the custodian only", () => {
  let directory: string;
  let probe: string;
  const previous = process.env[CUSTODIAN_PASSPHRASE_ENV];

  before(() => {
    directory = mkdtempSync(join(tmpdir(), "ciphershare-env-"));
    // Stands in for the CLI: a process that reports what it received.
    probe = join(directory, "probe.js");
    writeFileSync(
      probe,
      `process.stdout.write(JSON.stringify({ role: process.argv[2], passphrase: process.env.${CUSTODIAN_PASSPHRASE_ENV} ?? null }) + "\\n");\n`,
    );
    process.env[CUSTODIAN_PASSPHRASE_ENV] = "the parent's passphrase";
  });

  after(() => {
    if (previous === undefined) delete process.env[CUSTODIAN_PASSPHRASE_ENV];
    else process.env[CUSTODIAN_PASSPHRASE_ENV] = previous;
    rmSync(directory, { recursive: true, force: true });
  });

  const received = async (args: string[], env: Record<string, string | undefined>) =>
    (await runCiphershare(args, { env, script: probe })).json as { role: string; passphrase: string | null };

  it("a coprocessor, contributor, network or auditor process gets no passphrase, even from a parent that has one", async () => {
    for (const args of [
      ["coprocessor", "run"],
      ["contributor", "submit"],
      ["network", "open-round"],
      ["audit", "--round", "1"],
      ["usage", "aggregate"],
      ["usage", "audit"],
    ]) {
      expect(await received(args, roleEnvironment(args, "secret passphrase"))).to.deep.equal({
        role: args[0],
        passphrase: null,
      });
      expect((await received(args, appRoleEnvironment(args))).passphrase).to.equal(null);
    }
  });

  it("a custodian process (and a usage period's release, the custodian's step) gets the passphrase it was given", async () => {
    for (const args of [
      ["custodian", "run"],
      ["custodian", "keygen"],
      ["usage", "release"],
    ]) {
      expect(await received(args, roleEnvironment(args, "secret passphrase"))).to.deep.equal({
        role: args[0],
        passphrase: "secret passphrase",
      });
      expect((await received(args, appRoleEnvironment(args))).passphrase).to.equal("ciphershare local app custodian");
    }
  });

  it("the contributors' passphrase (their payout keys) reaches `contributor …` processes only", async () => {
    const contributorProbe = join(directory, "contributor-probe.js");
    writeFileSync(
      contributorProbe,
      `process.stdout.write(JSON.stringify({ passphrase: process.env.${CONTRIBUTOR_PASSPHRASE_ENV} ?? null }) + "\\n");\n`,
    );
    const passphraseOf = async (args: string[]) =>
      (
        (
          await runCiphershare(args, {
            env: roleEnvironment(args, "secret passphrase", "contributor passphrase"),
            script: contributorProbe,
          })
        ).json as { passphrase: string | null }
      ).passphrase;
    expect(await passphraseOf(["contributor", "seal-payout"])).to.equal("contributor passphrase");
    for (const args of [["custodian", "run"], ["coprocessor", "run"], ["network", "fund"], ["audit"]]) {
      expect(await passphraseOf(args)).to.equal(null);
    }
  });
});
