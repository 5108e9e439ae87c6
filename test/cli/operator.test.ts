import { expect } from "chai";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, publicBundleParts } from "@ciphershare/protocol/ckks/keys";
import { publishBundleParts } from "@ciphershare/coprocessor/storage/key-bundle";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import type { Hex } from "@ciphershare/protocol/hex";
import { CommitmentStatus } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { decodeUsageReport } from "@ciphershare/protocol/records/usage-report";
import { chainReader, roleAccount, type ChainReader } from "@ciphershare/coprocessor/chain/clients";
import { contractsToRead } from "@ciphershare/coprocessor/chain/contracts";
import { OPERATOR_ACCOUNT } from "@ciphershare/coprocessor/roles/operator";
import { readDeployment, ROLE_ACCOUNT } from "@ciphershare/coprocessor/roles/workspace";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { periodInputs } from "@ciphershare/coprocessor/usage/period";
import { syntheticAttributions } from "@ciphershare/coprocessor/usage/synthetic";
import { cli, run, startTestNetwork, type TestNetwork } from "../e2e/processes";
import { accessOf } from "../support/blob-requests";

// `ciphershare operator report / reveal` as separate processes on a real local chain: the operator encrypts a
// period's attributions under the program's (verified) key, uploads the batches and commits the report's seal with
// the period's generation count; in the reveal phase it reveals the report, which pins every batch hash and count.
describe("cli: operator report (usage-metered royalties)", function () {
  this.timeout(600_000);
  let network: TestNetwork;
  let home: string;
  let deployment: Deployment;
  let reader: ChainReader;
  let store: LocalDirectoryBlobStore;
  let bundleHash: Hex;

  before(async function () {
    network = await startTestNetwork("ciphershare-operator-");
    home = network.home;
    store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    // A program key without rotation keys: the operator only needs the public key.
    const ctx = await CkksContext.create("deep-v2");
    bundleHash = await publishBundleParts(store, await publicBundleParts(generateKeys(ctx).bundle));
    ctx.dispose();
    await cli(home, ["network", "deploy"]);
    deployment = readDeployment(network.ws);
    reader = chainReader(network.chain.rpcUrl, network.chain.chainId);
    await cli(home, ["network", "create-program", "--bundle-hash", bundleHash]);
    await cli(home, ["custodian", "accept", "--program", "1", "--force"]);
    await cli(home, ["network", "open-round", "--program", "1"]);
    await cli(home, ["operator", "register"]);
  });

  after(async () => {
    await network?.stop();
    if (network) rmSync(network.home, { recursive: true, force: true });
  });

  it("documents its options", async () => {
    const help = await run(["operator", "report", "--help"]);
    expect(help.code).to.equal(0);
    for (const option of ["--round", "--attributions", "--cap", "--batch", "--reveal", "--contributors"]) {
      expect(help.stdout).to.contain(option);
    }
  });

  it("usage release checks the published mix before any work: a weight in [0, 1], one Shapley score per contributor", async () => {
    const release = (extra: string[]) =>
      run(["usage", "release", "--round", "1", "--contributors", "3", ...extra, "--home", home]);
    const weight = await release(["--usage-weight", "1.5"]);
    expect(weight.code).to.equal(1);
    expect(weight.stderr).to.contain("--usage-weight must lie in [0, 1]");
    const noScores = await release(["--usage-weight", "0.7"]);
    expect(noScores.stderr).to.contain("needs --shapley");
    const scores = join(home, "phi.json");
    writeFileSync(scores, JSON.stringify([0.1, 0.2]));
    const short = await release(["--usage-weight", "0.7", "--shapley", scores]);
    expect(short.code).to.equal(1);
    expect(short.stderr).to.contain("one finite score per contributor");
  });

  it("refuses a file that is not a [generations, contributors] .npy, naming it", async () => {
    const flat = join(home, "flat.npy");
    writeFileSync(flat, serializeNpy(new Float64Array(6)));
    const result = await run(["operator", "report", "--round", "1", "--attributions", flat, "--home", home]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("[generations, contributors]");
  });

  it("encrypts and uploads the batches, excludes bad rows with their reason, commits and reveals the report", async () => {
    const rows = syntheticAttributions(2500, 6, { seed: 5, unused: [5] });
    rows[10] = Float64Array.from([0.5, -0.1, 0, 0, 0, 0]);
    rows[20] = Float64Array.from([NaN, 0, 0, 0, 0, 0]);
    rows[30] = Float64Array.from([0.9, 0.9, 0, 0, 0, 0]);
    const values = new Float64Array(rows.length * 6);
    rows.forEach((row, g) => values.set(row, g * 6));
    const file = join(home, "usage.npy");
    writeFileSync(file, serializeNpy(values, [rows.length, 6]));

    const reported = await cli<{
      reportHash: Hex;
      generations: number;
      batches: { hash: Hex; generations: number }[];
      excluded: Record<string, number>;
      firstExclusions: { generation: number; reason: string }[];
    }>(home, ["operator", "report", "--round", "1", "--attributions", file]);
    expect(reported.generations).to.equal(2497);
    expect(reported.batches.map((b) => b.generations)).to.deep.equal([1000, 1000, 497]);
    expect(reported.excluded).to.deep.equal({ "wrong-length": 0, "not-finite": 1, negative: 1, "over-cap": 1 });
    expect(reported.firstExclusions.map((e) => [e.generation, e.reason])).to.deep.equal([
      [10, "negative"],
      [20, "not-finite"],
      [30, "over-cap"],
    ]);
    for (const batch of reported.batches) {
      expect(await store.has(batch.hash)).to.equal(true);
      // A batch is the round's input: from its upload on, only the round's computing parties read it.
      const access = await accessOf(network.blobs.url, deployment, batch.hash, roleAccount(ROLE_ACCOUNT.coprocessor));
      expect(access, batch.hash).to.deep.equal({ unsigned: 401, outsider: 403, reader: 200 });
    }
    // Only the seal is public so far; the report stays with the operator until the reveal.
    expect(await store.has(reported.reportHash)).to.equal(false);
    const { rounds } = contractsToRead(deployment, reader);
    const committed = await rounds.read.commitmentAt([1n, 0n]);
    expect(committed.contributor).to.equal(roleAccount(OPERATOR_ACCOUNT).address);
    expect(committed.sampleCount).to.equal(2497n);
    expect(committed.status).to.equal(CommitmentStatus.Sealed);

    const revealed = await cli<{ ciphertextHash: Hex; revealed: boolean }>(home, [
      "operator",
      "reveal",
      "--round",
      "1",
      "--advance-time",
    ]);
    expect(revealed).to.deep.include({ ciphertextHash: reported.reportHash, revealed: true });
    const onChain = await rounds.read.commitmentAt([1n, 0n]);
    expect(onChain.status).to.equal(CommitmentStatus.Revealed);
    expect(onChain.ciphertextHash).to.equal(reported.reportHash);
    const report = decodeUsageReport(await store.get(reported.reportHash));
    expect(report.batches).to.deep.equal(reported.batches);

    // What the coprocessor will include: the revealed report against its committed count, then every batch.
    const inputs = await periodInputs(
      [{ hash: onChain.ciphertextHash, committedGenerations: Number(onChain.sampleCount) }],
      async (hash) => ((await store.has(hash)) ? store.get(hash) : undefined),
      {
        round: 1n,
        parameterSetId: "deep-v2",
        publicBundleHash: bundleHash,
        rules: { contributors: 6, generationCap: 1 },
        slotCount: 8192,
      },
    );
    expect(inputs.excludedReports).to.deep.equal([]);
    expect(inputs.excluded).to.deep.equal([]);
    expect(inputs.included.reduce((sum, b) => sum + b.generations, 0)).to.equal(2497);
  });
});
