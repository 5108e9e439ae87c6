import { expect } from "chai";
import { publishBundleParts } from "@ciphershare/coprocessor/storage/key-bundle";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { powerOfTwoSteps } from "@ciphershare/protocol/ckks/keys";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import type { Hex } from "@ciphershare/protocol/hex";
import { parseAuditVerdict } from "@ciphershare/protocol/audit/verdict";
import { KeyCustodian } from "@ciphershare/coprocessor/keys/key-custodian";
import { TEST_SCRYPT, writeKeystoreFile } from "@ciphershare/coprocessor/keys/keystore";
import { contributorAccount, readDeployment, writeJsonFile } from "@ciphershare/coprocessor/roles/workspace";
import { chainReader, chainSigner, mined, roleAccount, type ChainReader } from "@ciphershare/coprocessor/chain/clients";
import { contractsFor } from "@ciphershare/coprocessor/chain/contracts";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { inputsHash, sealOf } from "@ciphershare/protocol/round/inputs";
import { encodeUsagePeriodRecord } from "@ciphershare/protocol/records/usage-period";
import { bytesToHex } from "@ciphershare/protocol/hex";
import { RoundPhase } from "@ciphershare/protocol/chain/constants";
import { readRound } from "@ciphershare/coprocessor/chain/contracts";
import { computeUsagePeriod } from "@ciphershare/coprocessor/roles/usage-coprocessor";
import { ROLE_ACCOUNT } from "@ciphershare/coprocessor/roles/workspace";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { plaintextUsageTotals } from "@ciphershare/coprocessor/usage/attribution";
import { syntheticAttributions } from "@ciphershare/coprocessor/usage/synthetic";
import { cli, PASSPHRASE, run, startTestNetwork, type TestNetwork } from "./processes";

// A usage-metered round end to end with every role its own `ciphershare` process on a real local chain: the operator
// reports (a bad row excluded with its reason), the coprocessor sums the batches into one totals ciphertext and
// publishes it, the custodian releases only those totals after finalization and settles the funded pool on-chain to
// the artists the program's usage terms name; the artists claim, the operator cannot; the auditor re-derives everything
// and checks that the shares sum to the pool.
describe("e2e: a usage-metered round (operator, coprocessor, custodian, auditor as processes)", function () {
  this.timeout(900_000);
  let network: TestNetwork;
  let home: string;
  let expected: Float64Array;
  let deployment: Deployment;
  let reader: ChainReader;
  let store: LocalDirectoryBlobStore;

  before(async () => {
    network = await startTestNetwork("ciphershare-usage-");
    home = network.home;
    // The custodian's epoch keys with the power-of-two rotations the usage fold needs (custodian keygen would add the
    // Shapley projection's steps too; they are not needed here).
    const ctx = await CkksContext.create("deep-v2");
    const keys = await KeyCustodian.generateEpochKeys(
      ctx,
      PASSPHRASE,
      { galoisSteps: powerOfTwoSteps(ctx.slotCount, false) },
      TEST_SCRYPT,
    );
    ctx.dispose();
    store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    const bundleHash = await publishBundleParts(store, keys.parts);
    await writeKeystoreFile(network.ws.keystoreFile, keys.keystore);
    writeJsonFile(network.ws.bundlePointerFile, { publicBundleHash: bundleHash });
    await cli(home, ["network", "deploy"]);
    deployment = readDeployment(network.ws);
    reader = chainReader(network.chain.rpcUrl, network.chain.chainId);
    // A federated program cannot take usage terms: the kind is fixed at creation.
    await cli(home, ["network", "create-program", "--bundle-hash", bundleHash, "--min-contributors", "1"]);
    const federated = await run([
      "network",
      "set-usage-terms",
      "--program",
      "1",
      "--artist-accounts",
      "5,6",
      "--home",
      home,
    ]);
    expect(federated.code).to.equal(1);
    expect(federated.stderr).to.contain("NotAUsageProgramKind");
    // The usage program (2), bound to its terms' hash and given them: the artists are contributors 1 to 6
    // (development accounts 5 to 10), in attribution order; the operator account 19.
    await cli(home, [
      "network",
      "create-program",
      "--kind",
      "usage",
      "--bundle-hash",
      bundleHash,
      "--min-contributors",
      "1",
      "--artist-accounts",
      "5,6,7,8,9,10",
    ]);
    // One operator per period: a crowd of 1 is below the custodian's default policy, so it is overruled on purpose.
    await cli(home, ["custodian", "accept", "--program", "2", "--force"]);
    await cli(home, ["network", "open-round", "--program", "2"]);
    await cli(home, ["network", "fund", "--round", "1", "--amount", "1000000"]);
  });

  after(async () => {
    await network?.stop();
    if (network) rmSync(network.home, { recursive: true, force: true });
  });

  it("runs report → reveal → close → aggregate → finalize → release → audit, and royalties track usage", async () => {
    const rows = syntheticAttributions(3000, 6, { seed: 21, unused: [5] });
    rows[7] = Float64Array.from([0.5, 0.6, 0.1, 0, 0, 0]); // over the cap of 1
    const values = new Float64Array(rows.length * 6);
    rows.forEach((row, g) => values.set(row, g * 6));
    const file = join(home, "usage.npy");
    writeFileSync(file, serializeNpy(values, [rows.length, 6]));
    expected = plaintextUsageTotals(
      rows.filter((_, g) => g !== 7),
      6,
    );

    // Another registered party commits junk as a "report" first: not the terms' operator, so excluded as Policy
    // without being read (it could be paid nothing anyway: the payees are the artists); the round goes on.
    await cli(home, ["contributor", "register", "--index", "0"]);
    const junkSigner = chainSigner(reader, roleAccount(contributorAccount(0)));
    const junk = await store.put(new TextEncoder().encode("not a usage report"));
    const junkRounds = contractsFor(deployment, junkSigner).rounds;
    await mined(reader, junkRounds.write.commitContribution([1n, sealOf(junk, junkSigner.address), 5000n]));

    await cli(home, ["operator", "register"]);
    const reported = await cli<{ generations: number; excluded: Record<string, number> }>(home, [
      "operator",
      "report",
      "--round",
      "1",
      "--attributions",
      file,
      "--reveal",
      "--advance-time",
    ]);
    expect(reported.generations).to.equal(2999);
    expect(reported.excluded["over-cap"]).to.equal(1);
    await mined(reader, junkRounds.write.revealContribution([1n, junk, "local:"]));
    await cli(home, ["network", "close", "--round", "1", "--advance-time"]);

    const published = await cli<{
      totals: Hex;
      reasons: Hex;
      record: { generations: number; excludedReports: { index: number; reason: string }[] };
    }>(home, ["usage", "aggregate", "--round", "1"]); // the contributor count and cap: the on-chain terms'
    expect(published.reasons).to.equal("0x0400"); // the junk: Policy (not the operator); the operator's report: included
    expect(published.record.excludedReports).to.deep.equal([]);
    expect(published.record.generations).to.equal(2999);

    // Nothing is released before finalization: the policy lists no output of a round still open to challenges.
    const early = await run(["usage", "release", "--round", "1", "--home", home]);
    expect(early.code).to.equal(1);
    expect(early.stderr).to.contain("Finalized");

    await cli(home, ["network", "finalize", "--round", "1", "--advance-time"]);
    const wrongTerms = await run(["usage", "release", "--round", "1", "--contributors", "5", "--home", home]);
    expect(wrongTerms.code).to.equal(1);
    expect(wrongTerms.stderr).to.contain("differ from the program's on-chain terms");
    // Before the release, nothing is sealed for an artist to read.
    const before = await cli<{ sealed: boolean }>(home, ["contributor", "usage", "--round", "1", "--index", "1"]);
    expect(before.sealed).to.equal(false);
    const released = await cli<{
      totals: number[];
      shares: string[];
      pool: string;
      sealed: number;
      settled: boolean;
      record: { generations: number };
    }>(home, ["usage", "release", "--round", "1"]);
    expect(released.settled).to.equal(true);
    expect(released.sealed).to.equal(6);
    expect(String(released.pool)).to.equal("1000000");
    expect(released.record.generations).to.equal(2999);
    for (let i = 0; i < 5; i++) {
      expect(Math.abs(released.totals[i] - expected[i]) / expected[i]).to.be.below(1e-4);
    }
    const shares = released.shares.map(BigInt);
    expect(shares[5]).to.equal(0n);
    expect(shares.reduce((a, b) => a + b, 0n)).to.equal(1_000_000n);
    const sum = expected.reduce((a, b) => a + b, 0);
    for (let i = 0; i < 5; i++) expect(Number(shares[i]) / 1e6).to.be.closeTo(expected[i] / sum, 1e-5);

    // On-chain: the most used artist and the never-used one claim (each decrypts only its own share); the operator,
    // whose report was the round's only included commitment, has nothing to claim.
    const top = await cli<{ claimed: string; balance: string }>(home, [
      "contributor",
      "claim",
      "--round",
      "1",
      "--index",
      "1",
    ]);
    expect(BigInt(top.claimed)).to.equal(shares[0]);
    expect(BigInt(top.balance)).to.equal(shares[0]);
    const unused = await cli<{ claimed: string }>(home, ["contributor", "claim", "--round", "1", "--index", "6"]);
    expect(BigInt(unused.claimed)).to.equal(0n);
    // Each artist decrypts its own usage total, sealed on-chain to it alone (millionths of the released total).
    const own = await cli<{ sealed: boolean; units: string; total: number }>(home, [
      "contributor",
      "usage",
      "--round",
      "1",
      "--index",
      "1",
    ]);
    expect(own.sealed).to.equal(true);
    expect(BigInt(own.units)).to.equal(BigInt(Math.round(released.totals[0] * 1e6)));
    expect(Math.abs(own.total - expected[0]) / expected[0]).to.be.below(1e-4);
    const ownUnused = await cli<{ units: string }>(home, ["contributor", "usage", "--round", "1", "--index", "6"]);
    expect(BigInt(ownUnused.units)).to.equal(0n);
    // The operator has no total; reading another artist's total is refused by the ACL (the attack test is on-chain:
    // test/contracts/usage/UsageTerms.test.ts).
    const operatorUsage = await cli<{ sealed: boolean }>(home, [
      "contributor",
      "usage",
      "--round",
      "1",
      "--index",
      "15",
    ]);
    expect(operatorUsage.sealed).to.equal(false);
    const operatorClaim = await run(["contributor", "claim", "--round", "1", "--index", "15", "--home", home]);
    expect(operatorClaim.code).to.equal(1);
    expect(operatorClaim.stderr).to.contain("Nothing to claim");

    const audit = await run(["usage", "audit", "--round", "1", "--json", "--home", home]);
    const verdict = parseAuditVerdict(JSON.parse(audit.stdout.trim().split("\n").at(-1)!));
    expect(verdict.checks.map((c) => [c.name, c.passed])).to.deep.equal([
      ["results-published", true],
      ["exclusions", true],
      ["period-record", true],
      ["totals-commitment", true],
      ["release-found", true],
      ["shares-sum-to-pool", true],
    ]);
    expect(audit.code).to.equal(0);
  });

  it("the daemons serve a usage period: coprocessor run publishes, custodian run releases and settles", async () => {
    await cli(home, ["network", "open-round", "--program", "2"]);
    const rows = syntheticAttributions(500, 6, { seed: 22, unused: [5] });
    const values = new Float64Array(rows.length * 6);
    rows.forEach((row, g) => values.set(row, g * 6));
    const file = join(home, "usage-2.npy");
    writeFileSync(file, serializeNpy(values, [rows.length, 6]));
    await cli(home, ["operator", "report", "--round", "2", "--attributions", file, "--reveal", "--advance-time"]);
    await cli(home, ["network", "close", "--round", "2", "--advance-time"]);
    const coprocessor = await cli<{ processed: number[] }>(home, ["coprocessor", "run", "--once"]);
    expect(coprocessor.processed).to.deep.equal([2]);
    await cli(home, ["network", "finalize", "--round", "2", "--advance-time"]);
    // Released before the pool is funded: the totals wait in the custodian's journal; settled at the next pass.
    const first = await cli<{ settled: number[] }>(home, ["custodian", "run", "--once"]);
    expect(first.settled).to.deep.equal([]);
    await cli(home, ["network", "fund", "--round", "2", "--amount", "5000"]);
    const second = await cli<{ settled: number[]; failed: unknown[] }>(home, ["custodian", "run", "--once"]);
    expect(second.settled).to.deep.equal([2]);
    expect(second.failed).to.deep.equal([]);
    const own = await cli<{ sealed: boolean; total: number }>(home, [
      "contributor",
      "usage",
      "--round",
      "2",
      "--index",
      "1",
    ]);
    expect(own.sealed).to.equal(true);
    expect(own.total).to.be.greaterThan(0);
    const audit = await run(["usage", "audit", "--round", "2", "--json", "--home", home]);
    const verdict = parseAuditVerdict(JSON.parse(audit.stdout.trim().split("\n").at(-1)!));
    expect(
      verdict.checks.every((c) => c.passed),
      JSON.stringify(verdict.checks),
    ).to.equal(true);
    expect(verdict.checks.map((c) => c.name)).to.include("shares-sum-to-pool");
  });

  it("custodian run challenges a usage period whose published totals are not the recomputed ones", async () => {
    await cli(home, ["network", "open-round", "--program", "2"]);
    const rows = syntheticAttributions(300, 6, { seed: 23, unused: [5] });
    const values = new Float64Array(rows.length * 6);
    rows.forEach((row, g) => values.set(row, g * 6));
    const file = join(home, "usage-3.npy");
    writeFileSync(file, serializeNpy(values, [rows.length, 6]));
    await cli(home, [
      "operator",
      "report",
      "--round",
      "3",
      "--attributions",
      file,
      "--batch",
      "100",
      "--reveal",
      "--advance-time",
    ]);
    await cli(home, ["network", "close", "--round", "3", "--advance-time"]);
    // A malicious coprocessor publishes one batch as "the totals", with a record naming it: decrypted, it would
    // reveal that batch's attributions (of a batch of one generation: that generation's).
    const coprocessor = chainSigner(reader, roleAccount(ROLE_ACCOUNT.coprocessor));
    const honest = await computeUsagePeriod(deployment, reader, store, 3n, undefined);
    const forged = { ...honest.record, totals: honest.record.batches[0].hash };
    const periodHash = await store.put(encodeUsagePeriodRecord(forged));
    await mined(
      reader,
      contractsFor(deployment, coprocessor).rounds.write.publishResults([
        3n,
        forged.totals,
        periodHash,
        await inputsHash(honest.period.included),
        bytesToHex(honest.period.reasons),
      ]),
    );
    const pass = await cli<{ challenged: number[]; failed: unknown[] }>(home, ["custodian", "run", "--once"]);
    expect(pass.failed).to.deep.equal([]);
    expect(pass.challenged).to.deep.equal([3]);
    expect((await readRound(deployment, reader, 3n)).phase).to.equal(RoundPhase.Challenged);
  });
});
