// `npm run demo -- --training`: an encrypted-data training round (issue 12, docs/training.md) on the embedded chain.
// 6 data providers hold pooled-MNIST rows (d = 64, c = 10): provider 4's labels are random, provider 5 holds a copy
// of provider 0's rows, and a seventh upload has the wrong shape (excluded with its reason). Every role is its own
// `ciphershare` process: the buyer publishes its key, the network creates the training program, each provider
// encrypts its statistics and commits, the coprocessor aggregates and masks, the custodian decrypts only the masked
// system (flooded), solves and encrypts U for the buyer, the coprocessor unmasks, the buyer decrypts W. The buyer's
// accuracy is printed beside a plaintext ridge on the same rows. Each upload also carries the provider's encrypted
// local ridge model: the coprocessor computes Enc(φ) against the program's validation set (1 000 other MNIST digits,
// a blob the terms name by hash), the custodian releases φ and settles the buyer's payment (the round's pool), the
// providers claim their royalties, and the auditor re-verifies the round.
//   npm run demo -- --training [--json] [--home <dir>]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { parseNpyArray, serializeNpy } from "@ciphershare/protocol/formats/npy";
import { startEmbeddedNetwork } from "@ciphershare/coprocessor/roles/embedded-network";
import { pooledMnist, pooledSplit } from "@ciphershare/coprocessor/simulation/pooled-mnist";
import { SeededRandom } from "@ciphershare/coprocessor/random/seeded-random";
import {
  classificationAccuracy,
  maxRelativeError,
  pooledStatistics,
  ridgeFromStatistics,
} from "@ciphershare/coprocessor/training/ridge";
import { providerStatistics } from "@ciphershare/protocol/training/statistics";
import { roleEnvironment, runCiphershare } from "../lib/cli-process";

const CUSTODIAN_PASSPHRASE = "demo custodian passphrase";
const BUYER_PASSPHRASE = "demo buyer passphrase";

/** Each role's process gets only its own passphrase: the custodian's commands the custodian's, the buyer's the buyer's. */
function environment(args: readonly string[]): Record<string, string | undefined> {
  return {
    ...roleEnvironment(args, CUSTODIAN_PASSPHRASE),
    CIPHERSHARE_BUYER_PASSPHRASE: args[0] === "buyer" ? BUYER_PASSPHRASE : undefined,
  };
}
const PROVIDERS = 6;
const ROWS = 300;
const RANDOM_LABELS = 4;
const COPY_OF_ZERO = 5;
const LAMBDA = 0.001;
const SHAPE = { features: 64, outputs: 10 };
const POOL = 1_000_000n;
const TEST_ROWS = 2000;
const VALIDATION_ROWS = 1000;
/** The declared ‖W_k‖_F bound φ's flooding is sized for (the local models of these rows measure 3.7–4.1). */
const MODEL_NORM_BOUND = 8;

export async function trainingDemo(argv: string[]): Promise<void> {
  const parsed = new Command()
    .name("npm run demo -- --training")
    .option("--training", "the encrypted-data training demo (this one)")
    .option("--json", "the last stdout line is the result as JSON")
    .option("--home <dir>", "workspace (wiped at start)", join(".ciphershare", "demo-training"))
    .parse(argv, { from: "user" })
    .opts<{ json?: boolean; home: string }>();
  const json = parsed.json === true;
  const home = resolve(parsed.home);
  const say = (line: string) => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  const cli = async <T>(args: string[]): Promise<T> => {
    const run = await runCiphershare([...args, "--home", home, "--json"], { env: environment(args) });
    if (run.code !== 0) {
      throw new Error(`ciphershare ${args.slice(0, 2).join(" ")} failed (exit ${run.code}): ${run.stderr.trim()}`);
    }
    return run.json as T;
  };
  const started = performance.now();
  say(
    `CipherShare — an encrypted-data training round: ${PROVIDERS} providers, d = ${SHAPE.features}, c = ${SHAPE.outputs}\n`,
  );
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });

  const split = pooledSplit(PROVIDERS - 1, ROWS, TEST_ROWS + VALIDATION_ROWS, 8);
  const data = split.providers.map((rows) => pooledMnist(8, rows));
  const noisy = data[RANDOM_LABELS].y.data.fill(0);
  const random = new SeededRandom(5);
  for (let r = 0; r < ROWS; r++) noisy[r * 10 + random.nextInt(10)] = 1;
  data.push(data[0]);
  const test = pooledMnist(8, split.test.slice(0, TEST_ROWS));
  const validation = pooledMnist(8, split.test.slice(TEST_ROWS));
  const validationRows = join(home, "validation.rows.npy");
  const validationLabels = join(home, "validation.labels.npy");
  writeFileSync(validationRows, serializeNpy(validation.x.data, [validation.x.rows, validation.x.cols]));
  writeFileSync(validationLabels, serializeNpy(Float64Array.from(validation.labels), [validation.labels.length]));
  const files = data.map(({ x, y }, k) => {
    const rows = join(home, `provider-${k}.rows.npy`);
    const labels = join(home, `provider-${k}.labels.npy`);
    writeFileSync(rows, serializeNpy(x.data, [x.rows, x.cols]));
    writeFileSync(labels, serializeNpy(y.data, [y.rows, y.cols]));
    return { rows, labels };
  });
  const wrongShape = join(home, "wrong-shape.rows.npy");
  writeFileSync(wrongShape, serializeNpy(new Float64Array(ROWS * 63).fill(0.5), [ROWS, 63]));

  const network = await startEmbeddedNetwork(home);
  try {
    say(`• local chain ${network.chain.rpcUrl} (fhEVM mock), blob store ${network.blobs.url}`);
    await cli(["network", "deploy"]);
    const buyer = await cli<{ publicBundleHash: string }>([
      "buyer",
      "keygen",
      "--features",
      String(SHAPE.features),
      "--outputs",
      String(SHAPE.outputs),
    ]);
    say(`• buyer (own process) published its key ${buyer.publicBundleHash.slice(0, 12)}…`);
    const keys = await cli<{ publicBundleHash: string }>([
      "custodian",
      "keygen",
      "--training",
      "--dimension",
      String(SHAPE.features),
      "--classes",
      String(SHAPE.outputs),
    ]);
    say(`• custodian published the program key ${keys.publicBundleHash.slice(0, 12)}…`);
    const created = await cli<{ programId: string; termsHash: string }>([
      "network",
      "create-program",
      "--kind",
      "training",
      "--features",
      String(SHAPE.features),
      "--outputs",
      String(SHAPE.outputs),
      "--lambda",
      String(LAMBDA),
      "--buyer-key",
      buyer.publicBundleHash,
      "--validation",
      validationRows,
      "--validation-labels",
      validationLabels,
      "--model-norm-bound",
      String(MODEL_NORM_BOUND),
    ]);
    await cli(["custodian", "accept", "--program", created.programId]);
    await cli(["network", "open-round", "--program", created.programId]);
    await cli(["network", "fund", "--round", "1", "--amount", POOL.toString()]);
    say(
      `• network created training program ${created.programId} (terms ${created.termsHash.slice(0, 12)}…, validation set of ${VALIDATION_ROWS} digits), accepted; round 1 open, the buyer's payment of ${POOL} funds its pool`,
    );

    for (let k = 0; k <= PROVIDERS; k++) {
      await cli(["contributor", "register", "--index", String(k)]);
      const rows = k === PROVIDERS ? wrongShape : files[k].rows;
      const labels = k === PROVIDERS ? files[0].labels : files[k].labels;
      const submitted = await cli<{ rows: number; bytes: number }>([
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
      ]).catch((error: Error) => ({ rows: 0, bytes: 0, refused: error.message }));
      const note = k === RANDOM_LABELS ? " (random labels)" : k === COPY_OF_ZERO ? " (copy of provider 0's rows)" : "";
      say(
        "refused" in submitted
          ? `• provider ${k} (own process): refused locally — ${String(submitted.refused).split("\n")[0]}`
          : `• provider ${k} (own process)${note}: [XᵀX | XᵀY] of ${submitted.rows} rows and its local model encrypted (${(submitted.bytes / 1e6).toFixed(2)} MB), committed`,
      );
    }
    for (let k = 0; k < PROVIDERS; k++) {
      await cli(["contributor", "reveal", "--round", "1", "--index", String(k), "--advance-time"]);
    }
    await cli(["network", "close", "--round", "1", "--advance-time"]);
    const published = await cli<{
      maskedSystem: string;
      record: { included: unknown[]; totalRows: number; excluded: unknown[]; valuation?: { scores: string } };
      seconds: { valuation?: number };
    }>(["training", "publish", "--round", "1"]);
    say(
      `• coprocessor (own process, no key): ${published.record.included.length} providers, ${published.record.totalRows} rows; masked system ${published.maskedSystem.slice(0, 12)}… and Enc(φ) ${published.record.valuation?.scores.slice(0, 12)}… (${(published.seconds.valuation ?? 0).toFixed(0)} s) published`,
    );
    await cli(["network", "finalize", "--round", "1", "--advance-time"]);
    const released = await cli<{
      record: {
        u: string;
        floodingSigma: number;
        valuation: {
          phi: number[];
          floodingSigma: number;
          residuals: { rho: number[]; tolerance: number[]; flagged: { position: number }[] };
        };
      };
      settlement?: string;
    }>(["training", "release", "--round", "1"]);
    say(
      `• custodian (own process): decrypted only the masked system (flooding σ ${released.record.floodingSigma.toExponential(1)}) and φ (σ ${released.record.valuation.floodingSigma.toExponential(1)}), solved, U under the buyer's key ${released.record.u.slice(0, 12)}…; pool ${released.settlement ?? "not settled"}`,
    );
    await cli(["training", "unmask", "--round", "1"]);
    say("• coprocessor (own process): Enc_buyer(W) = N·U·Sᵀ published");
    const out = join(home, "w.npy");
    await cli(["buyer", "decrypt-model", "--round", "1", "--out", out]);
    const decrypted = parseNpyArray(new Uint8Array(readFileSync(out)));
    const w = { rows: decrypted.shape[0], cols: decrypted.shape[1], data: decrypted.values };
    const stats = data.map(({ x, y }) => providerStatistics(x, y, SHAPE));
    const reference = ridgeFromStatistics(pooledStatistics(stats, SHAPE), LAMBDA);
    const accuracy = classificationAccuracy(test.x, test.y, w);
    const plaintextAccuracy = classificationAccuracy(test.x, test.y, reference);
    const error = maxRelativeError(w, reference);
    say(`• buyer (own process): decrypted W (${w.rows} × ${w.cols}) to ${out}`);
    say(
      `\nbuyer's model: ${(100 * accuracy).toFixed(2)} % test accuracy; plaintext ridge on the same rows: ${(100 * plaintextAccuracy).toFixed(2)} %; max relative error of W ${error.toExponential(2)}`,
    );
    const phi = released.record.valuation.phi;
    const { residuals } = released.record.valuation;
    say(
      `• residual check of each local model against its statistics: |ρ| ${residuals.rho.map((r) => Math.abs(r).toExponential(1)).join(", ")} (tolerance ${residuals.tolerance.map((t) => t.toExponential(1)).join(", ")}); flagged: ${residuals.flagged.length === 0 ? "none" : residuals.flagged.map((f) => f.position).join(", ")}`,
    );
    const royalties: bigint[] = [];
    for (let k = 0; k < PROVIDERS; k++) {
      royalties.push(
        BigInt(
          (await cli<{ claimed: string }>(["contributor", "claim", "--round", "1", "--index", String(k)])).claimed,
        ),
      );
    }
    say("\nprovider  φ (exact Shapley of its local model)  royalty claimed");
    for (let k = 0; k < PROVIDERS; k++) {
      const note = k === RANDOM_LABELS ? "  (random labels)" : k === COPY_OF_ZERO ? "  (copy of provider 0)" : "";
      say(
        `${String(k).padStart(8)}  ${phi[k].toExponential(4).padStart(11)}${" ".repeat(26)}${String(royalties[k]).padStart(9)}${note}`,
      );
    }
    say(`royalties sum to ${royalties.reduce((a, b) => a + b, 0n)} of the pool ${POOL}`);
    const audit = await runCiphershare(["audit", "--round", "1", "--home", home, "--json"], {
      env: environment(["audit"]),
    });
    const auditPassed = audit.code === 0;
    say(`• auditor (own process): ${auditPassed ? "audit passed" : `AUDIT FAILED\n${audit.stdout}${audit.stderr}`}`);
    say(`${((performance.now() - started) / 1000).toFixed(0)} s`);
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ providers: PROVIDERS, included: published.record.included.length, excluded: published.record.excluded, accuracy, plaintextAccuracy, maxRelErrorW: error, phi, royalties: royalties.map(String), auditPassed })}\n`,
      );
    }
  } finally {
    await network.stop();
  }
}
