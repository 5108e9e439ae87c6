import { expect } from "chai";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { parseNpyArray, serializeNpy } from "@ciphershare/protocol/formats/npy";
import type { Hex } from "@ciphershare/protocol/hex";
import { chainReader, chainSigner, roleAccount, type ChainReader } from "@ciphershare/coprocessor/chain/clients";
import { openKeystore } from "@ciphershare/coprocessor/keys/keystore";
import { keepAndCommit, revealContribution } from "@ciphershare/coprocessor/roles/contributor";
import { decryptModelWith } from "@ciphershare/coprocessor/roles/training";
import { contributorAccount, readDeployment, storeUri, readJsonFile } from "@ciphershare/coprocessor/roles/workspace";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { verifiedBundle } from "@ciphershare/coprocessor/roles/contributor";
import { providerUpload } from "@ciphershare/coprocessor/training/upload";
import { TRAINING_PARAMETER_SET } from "@ciphershare/coprocessor/training/pipeline";
import { maxRelativeError, pooledStatistics, ridgeFromStatistics } from "@ciphershare/coprocessor/training/ridge";
import { providerStatistics } from "@ciphershare/protocol/training/statistics";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { syntheticRows } from "../coprocessor/training/fixtures";
import { PASSPHRASE, run, startTestNetwork, type TestNetwork } from "./processes";
import { ciphershareJson, roleEnvironment } from "../../scripts/lib/cli-process";

const BUYER_PASSPHRASE = "test buyer passphrase";

// An encrypted-data training round with every role its own `ciphershare` process on one local chain: three providers
// submit from .npy files, two bad uploads are committed and excluded with their reason (a row count that is not the
// committed one, the wrong d), a provider whose local model is another provider's (its statistics are its own) is
// included but fails the encrypted residual check and is paid nothing, the coprocessor publishes the masked system, the custodian releases it (flooded) and
// encrypts U for the buyer, the coprocessor unmasks, and only the buyer's key decrypts W.
describe("e2e: an encrypted-data training round (providers, coprocessor, custodian, buyer as processes)", function () {
  this.timeout(1_200_000);
  const shape = { features: 8, outputs: 3 };
  const lambda = 0.01;
  let network: TestNetwork;
  let home: string;
  let deployment: Deployment;
  let reader: ChainReader;
  let store: LocalDirectoryBlobStore;
  const cli = <T>(args: string[]) =>
    ciphershareJson<T>(home, args, {
      env: {
        ...roleEnvironment(args, PASSPHRASE),
        CIPHERSHARE_BUYER_PASSPHRASE: args[0] === "buyer" ? BUYER_PASSPHRASE : undefined,
      },
    });
  // Providers 0–2 honest, provider 3 with random labels; the program values them on a validation set and pays the pool.
  const data = [0, 1, 2, 3].map((k) =>
    syntheticRows(60 + 20 * k, shape.features, shape.outputs, 40 + k, { randomLabels: k === 3 }),
  );
  const POOL = 1_000_000n;
  // Provider 7: its own rows' statistics, uploaded with provider 0's local model (whose φ would pay well).
  const copierStats = providerStatistics(
    syntheticRows(70, shape.features, shape.outputs, 50).x,
    syntheticRows(70, shape.features, shape.outputs, 50).y,
    shape,
  );

  before(async () => {
    network = await startTestNetwork("ciphershare-training-");
    home = network.home;
    store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    await cli(["network", "deploy"]);
    deployment = readDeployment(network.ws);
    reader = chainReader(network.chain.rpcUrl, network.chain.chainId);
    await cli(["buyer", "keygen", "--features", "8", "--outputs", "3"]);
    await cli(["custodian", "keygen", "--training", "--dimension", "8", "--classes", "3"]);
    const validation = syntheticRows(300, shape.features, shape.outputs, 99);
    writeFileSync(join(home, "val.x.npy"), serializeNpy(validation.x.data, [300, shape.features]));
    const labels = Float64Array.from({ length: 300 }, (_, r) =>
      [0, 1, 2].findIndex((k) => validation.y.data[r * shape.outputs + k] === 1),
    );
    writeFileSync(join(home, "val.y.npy"), serializeNpy(labels, [300]));
    await cli([
      "network",
      "create-program",
      "--kind",
      "training",
      "--features",
      "8",
      "--outputs",
      "3",
      "--lambda",
      String(lambda),
      "--validation",
      join(home, "val.x.npy"),
      "--validation-labels",
      join(home, "val.y.npy"),
      "--model-norm-bound",
      "4",
    ]);
    await cli(["custodian", "accept", "--program", "1"]);
    await cli(["network", "open-round", "--program", "1"]);
    await cli(["network", "fund", "--round", "1", "--amount", POOL.toString()]);
  });

  after(async () => {
    await network?.stop();
    if (network) rmSync(network.home, { recursive: true, force: true });
  });

  it("trains W for the buyer alone, values providers and pays the pool; bad uploads are excluded with their reason", async () => {
    // A provider's own check refuses NaN before anything is encrypted.
    const nan = join(home, "nan.rows.npy");
    const bad = Float64Array.from(data[0].x.data);
    bad[5] = Number.NaN;
    writeFileSync(nan, serializeNpy(bad, [data[0].x.rows, 8]));
    writeFileSync(join(home, "y0.npy"), serializeNpy(data[0].y.data, [data[0].y.rows, 3]));
    await cli(["contributor", "register", "--index", "0"]);
    const refused = await run([
      "provider",
      "submit",
      "--round",
      "1",
      "--index",
      "0",
      "--data",
      nan,
      "--labels",
      join(home, "y0.npy"),
      "--home",
      home,
    ]);
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.match(/non-finite value/);

    for (const [k, { x, y }] of data.entries()) {
      const rows = join(home, `x${k}.npy`);
      const labels = join(home, `y${k}.npy`);
      writeFileSync(rows, serializeNpy(x.data, [x.rows, x.cols]));
      writeFileSync(labels, serializeNpy(y.data, [y.rows, y.cols]));
      if (k > 0) await cli(["contributor", "register", "--index", String(k)]);
      const submitted = await cli<{ rows: number }>([
        "provider",
        "submit",
        "--round",
        "1",
        "--index",
        String(k),
        "--data",
        rows,
        "--labels",
        labels,
      ]);
      expect(submitted.rows).to.equal(x.rows);
    }
    // Four providers bypass the CLI's checks: one commits 49 rows for an upload of 50, one uploads d = 7, one uploads
    // a local model of the wrong shape (8 × 4), one uploads its own statistics with provider 0's local model.
    const program = readJsonFile<{ publicBundleHash: Hex }>(network.ws.bundlePointerFile, "bundle", "");
    const ctx = await CkksContext.create(TRAINING_PARAMETER_SET);
    const badUploads: Uint8Array[] = [];
    try {
      const key = await verifiedBundle(ctx, store, program.publicBundleHash, home);
      const rows50 = syntheticRows(50, 8, 3, 77);
      const stats50 = providerStatistics(rows50.x, rows50.y, shape);
      badUploads.push(providerUpload(ctx, stats50, shape, key.encryptor, { lambda }));
      const narrow = syntheticRows(50, 7, 3, 78);
      const narrowShape = { features: 7, outputs: 3 };
      badUploads.push(
        providerUpload(ctx, providerStatistics(narrow.x, narrow.y, narrowShape), narrowShape, key.encryptor, {
          lambda,
        }),
      );
      const wide = { rows: 8, cols: 4, data: new Float64Array(32).fill(0.1) };
      badUploads.push(providerUpload(ctx, stats50, shape, key.encryptor, { model: wide }));
      const copied = ridgeFromStatistics(providerStatistics(data[0].x, data[0].y, shape), lambda);
      badUploads.push(providerUpload(ctx, copierStats, shape, key.encryptor, { model: copied }));
      key.dispose();
    } finally {
      ctx.dispose();
    }
    const badSigners = [4, 5, 6, 7].map((k) => chainSigner(reader, roleAccount(contributorAccount(k))));
    for (const [i, signer] of badSigners.entries()) {
      await cli(["contributor", "register", "--index", String(4 + i)]);
      mkdirSync(join(home, `bad-${i}`), { recursive: true });
      await keepAndCommit(deployment, signer, {
        roundId: 1n,
        bytes: badUploads[i],
        sampleCount: i === 0 ? 49 : i === 3 ? copierStats.rows : 50,
        localDir: join(home, `bad-${i}`),
      });
    }
    for (const k of [0, 1, 2, 3]) {
      await cli(["contributor", "reveal", "--round", "1", "--index", String(k), "--advance-time"]);
    }
    for (const [i, signer] of badSigners.entries()) {
      await revealContribution(deployment, signer, store, {
        roundId: 1n,
        storeUri: storeUri(network.ws),
        localDir: join(home, `bad-${i}`),
      });
    }
    await cli(["network", "close", "--round", "1", "--advance-time"]);
    const published = await cli<{
      record: {
        included: { index: number }[];
        excluded: { index: number; reason: string; details: string }[];
        valuation?: { scores: string };
      };
    }>(["training", "publish", "--round", "1"]);
    expect(published.record.included.map((i) => i.index)).to.deep.equal([0, 1, 2, 3, 7]);
    expect(published.record.excluded.map((e) => [e.index, e.reason])).to.deep.equal([
      [4, "policy"],
      [5, "malformed"],
      [6, "malformed"],
    ]);
    expect(published.record.excluded[0].details).to.match(/row-count/);
    expect(published.record.excluded[1].details).to.match(/shape/);
    expect(published.record.excluded[2].details).to.match(/local model is not d × c/);
    expect(published.record.valuation?.scores).to.match(/^0x[0-9a-f]{64}$/);

    await cli(["network", "finalize", "--round", "1", "--advance-time"]);
    const released = await cli<{
      settlement: string;
      record: {
        valuation: {
          providers: string[];
          phi: number[];
          floodingSigma: number;
          residuals: { rho: number[]; tolerance: number[]; flagged: { position: number; reason: string }[] };
        };
      };
    }>(["training", "release", "--round", "1"]);
    // φ of the local models: the random-label provider gets the lowest, ≤ 0, hence no royalty.
    const { phi, providers, residuals } = released.record.valuation;
    expect(providers).to.have.length(5);
    // The copier's model values well (it is provider 0's), but it is not the ridge model of its statistics: its
    // released |ρ| exceeds the tolerance and it is flagged; every honest provider (the random-label one too) passes.
    expect(phi[4]).to.be.above(0);
    expect(residuals.flagged.map((f) => [f.position, f.reason])).to.deep.equal([[4, "residual"]]);
    expect(Math.abs(residuals.rho[4])).to.be.above(100 * residuals.tolerance[4]);
    for (const k of [0, 1, 2, 3]) expect(Math.abs(residuals.rho[k])).to.be.below(residuals.tolerance[k]);
    console.log(
      `      residual check: |ρ| ${residuals.rho.map((r) => Math.abs(r).toExponential(2)).join(", ")}; ` +
        `tolerance ${residuals.tolerance.map((t) => t.toExponential(2)).join(", ")}`,
    );
    expect(phi.indexOf(Math.min(...phi))).to.equal(3);
    expect(phi[3]).to.be.at.most(0);
    for (const k of [0, 1, 2]) expect(phi[k]).to.be.above(0);
    expect(released.settlement).to.equal("settled");
    // Each provider claims its share as a contributor does: the shares sum to the pool.
    const claimed: bigint[] = [];
    for (const k of [0, 1, 2]) {
      const claim = await cli<{ claimed: string }>(["contributor", "claim", "--round", "1", "--index", String(k)]);
      claimed.push(BigInt(claim.claimed));
      expect(claimed[k] > 0n).to.equal(true);
    }
    expect(claimed.reduce((a, b) => a + b, 0n)).to.equal(POOL);
    const randomLabels = await cli<{ claimed: string }>(["contributor", "claim", "--round", "1", "--index", "3"]);
    expect(BigInt(randomLabels.claimed)).to.equal(0n);
    const copier = await cli<{ claimed: string }>(["contributor", "claim", "--round", "1", "--index", "7"]);
    expect(BigInt(copier.claimed)).to.equal(0n);
    // The auditor re-verifies the round from the chain and public blobs: record, φ commitment, release, shares.
    const audit = await cli<{ passed: boolean; checks: { name: string; passed: boolean }[] }>([
      "audit",
      "--round",
      "1",
    ]);
    expect(audit.checks.filter((c) => !c.passed)).to.deep.equal([]);
    expect(audit.checks.map((c) => c.name)).to.include.members([
      "round-record",
      "valuation-committed",
      "residual-challenge",
      "release-found",
      "residual-check",
      "payout-shares",
      "shares-sum-to-pool",
    ]);
    expect(audit.passed).to.equal(true);
    const unmasked = await cli<{ recordHash: Hex }>(["training", "unmask", "--round", "1"]);
    const out = join(home, "w.npy");
    await cli(["buyer", "decrypt-model", "--round", "1", "--out", out]);
    const parsed = parseNpyArray(new Uint8Array(readFileSync(out)));
    const w = { rows: parsed.shape[0], cols: parsed.shape[1], data: parsed.values };
    const reference = ridgeFromStatistics(
      pooledStatistics([...data.map(({ x, y }) => providerStatistics(x, y, shape)), copierStats], shape),
      lambda,
    );
    expect(maxRelativeError(w, reference)).to.be.below(1e-4);

    // The custodian's key (its keystore) decrypts no W.
    const custodian = await openKeystore(readFileSync(network.ws.keystoreFile, "utf8"), PASSPHRASE);
    const byCustodian = await decryptModelWith(
      store,
      unmasked.recordHash,
      custodian.secretKey,
      custodian.metadata.publicBundleHash,
      shape,
    ).catch((e: unknown) => e);
    // The envelope is under the buyer's bundle: the custodian's bundle hash is refused outright; with the buyer's
    // hash claimed, the custodian's key decrypts noise.
    expect(byCustodian).to.be.instanceOf(Error);
    const buyerHash = readJsonFile<{ publicBundleHash: Hex }>(
      join(home, "buyer-bundle.json"),
      "buyer",
      "",
    ).publicBundleHash;
    const noise = await decryptModelWith(store, unmasked.recordHash, custodian.secretKey, buyerHash, shape);
    expect(maxRelativeError(noise, reference)).to.be.above(0.5);
  });
});
