/**
 * Encrypted-data training (issue 12) end to end on MNIST average-pooled to side × side features (d = side²,
 * c = 10): providers encrypt [A_k | B_k] under the program key (deep-v2), the coprocessor aggregates and masks,
 * the custodian solves the masked system and encrypts U for the buyer, the coprocessor unmasks under the buyer's
 * key, the buyer decrypts W. Accuracy beside plaintext ridge on the same rows; W's error before flooding.
 *
 *   npm run bench:training -- [--json] [--sides 8,14] [--providers 10] [--rows 600] [--lambda 0.001]
 *
 * `--valuation` (d = 64) instead measures the valuation proxy — six providers, one with random labels, one with a
 * copy of another's rows: φ of their local models (plaintext Gram method and encrypted), the exact Shapley value of
 * the pooled ridge model, Spearman between them, royalties — and the accuracy cost of the DP option (10 providers
 * × 600 rows; ε = 10, 1; δ = 1e-5; rows clipped to ‖(x, y)‖ ≤ 2; λ as given and 0.05), computed on the noisy
 * statistics in the clear (the encrypted path matches plaintext ridge to ~1e-10).
 */
import { Command } from "commander";
import { pooledMnist, pooledSplit } from "@ciphershare/coprocessor/simulation/pooled-mnist";
import { trainOnEncryptedStatistics } from "@ciphershare/coprocessor/training/pipeline";
import {
  classificationAccuracy,
  maxRelativeError,
  pooledStatistics,
  ridgeFromStatistics,
} from "@ciphershare/coprocessor/training/ridge";
import { providerStatistics } from "@ciphershare/protocol/training/statistics";
import { privateStatistics } from "@ciphershare/coprocessor/training/privacy";
import { pooledRidgeShapley, spearman } from "@ciphershare/coprocessor/training/pooled-shapley";
import { localModels, valueProviders } from "@ciphershare/coprocessor/training/valuation";
import { SeededRandom } from "@ciphershare/coprocessor/random/seeded-random";

const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (value: number, digits = 3) => Number(value.toPrecision(digits));

interface Measurement {
  d: number;
  c: number;
  providers: number;
  providerEncryptSeconds: number;
  providerUploadBytes: number;
  aggregateSeconds: number;
  maskedProductSeconds: number;
  solveSeconds: number;
  unmaskSeconds: number;
  maxRelErrorW: number;
  accuracy: number;
  plaintextAccuracy: number;
}

async function measure(side: number, providers: number, rows: number, lambda: number): Promise<Measurement> {
  const split = pooledSplit(providers, rows, 2000, 12);
  const shape = { features: side * side, outputs: 10 };
  const stats = split.providers.map((indices) => {
    const { x, y } = pooledMnist(side, indices);
    return providerStatistics(x, y, shape, x.rows);
  });
  const test = pooledMnist(side, split.test);
  const reference = ridgeFromStatistics(pooledStatistics(stats, shape), lambda);
  log(`d = ${shape.features}, c = 10, ${providers} providers × ${rows} rows: encrypted training…`);
  const result = await trainOnEncryptedStatistics(stats, shape, lambda);
  const s = result.seconds;
  log(
    `  keygen ${s.keygen.toFixed(1)} s, provider encrypt ${s.providerEncrypt.toFixed(2)} s, aggregate ${s.aggregate.toFixed(2)} s, ` +
      `masked product ${s.maskedProduct.toFixed(1)} s, solve ${s.solve.toFixed(2)} s, unmask ${s.unmask.toFixed(1)} s`,
  );
  return {
    d: shape.features,
    c: shape.outputs,
    providers,
    providerEncryptSeconds: round(s.providerEncrypt),
    providerUploadBytes: result.providerUploadBytes,
    aggregateSeconds: round(s.aggregate),
    maskedProductSeconds: round(s.maskedProduct),
    solveSeconds: round(s.solve),
    unmaskSeconds: round(s.unmask),
    maxRelErrorW: round(maxRelativeError(result.w, reference), 2),
    accuracy: round(classificationAccuracy(test.x, test.y, result.w), 4),
    plaintextAccuracy: round(classificationAccuracy(test.x, test.y, reference), 4),
  };
}

async function valuationAndPrivacy(lambda: number): Promise<void> {
  const shape = { features: 64, outputs: 10 };
  const split = pooledSplit(5, 300, 2000, 8);
  const data = split.providers.map((rows) => pooledMnist(8, rows));
  const random = new SeededRandom(5);
  const noisy = data[4].y.data.fill(0);
  for (let r = 0; r < data[4].y.rows; r++) noisy[r * 10 + random.nextInt(10)] = 1;
  data.push(data[0]);
  const stats = data.map(({ x, y }) => providerStatistics(x, y, shape));
  const validation = pooledMnist(8, split.test);
  const models = localModels(stats, lambda, shape);
  const rowCounts = stats.map((s) => s.rows);
  const exact = pooledRidgeShapley(stats, shape, lambda, validation);
  const plain = await valueProviders(models, rowCounts, validation, 1_000_000n, { encrypted: false });
  log("valuation proxy under encryption (deep-v2, exact Shapley of 6 local models)…");
  const encrypted = await valueProviders(models, rowCounts, validation, 1_000_000n, { keepUnflooded: true });
  // DP on the throughput benchmark's split (10 providers × 600 rows), each provider adding its own noise.
  const dpSplit = pooledSplit(10, 600, 2000, 12);
  const dpData = dpSplit.providers.map((rows) => pooledMnist(8, rows));
  const dpTest = pooledMnist(8, dpSplit.test);
  const dp = [lambda, 0.05].flatMap((dpLambda) => {
    const clean = ridgeFromStatistics(
      pooledStatistics(
        dpData.map(({ x, y }) => providerStatistics(x, y, shape)),
        shape,
      ),
      dpLambda,
    );
    const accuracyWithoutDp = round(classificationAccuracy(dpTest.x, dpTest.y, clean), 4);
    return [10, 1].map((epsilon) => {
      const noisyStats = dpData.map(
        ({ x, y }) => privateStatistics(x, y, shape, { epsilon, delta: 1e-5, clipNorm: 2 }).stats,
      );
      const w = ridgeFromStatistics(pooledStatistics(noisyStats, shape), dpLambda);
      return {
        lambda: dpLambda,
        epsilon,
        delta: 1e-5,
        clipNorm: 2,
        accuracyWithoutDp,
        accuracy: round(classificationAccuracy(dpTest.x, dpTest.y, w), 4),
      };
    });
  });
  const pooled = ridgeFromStatistics(pooledStatistics(stats, shape), lambda);
  process.stdout.write(
    `${JSON.stringify(
      {
        providers: ["honest", "honest", "honest", "honest", "random labels", "copy of provider 0"],
        proxyPhi: plain.valuation.phi.map((v) => round(v, 4)),
        encryptedProxyPhi: encrypted.valuation.phi.map((v) => round(v, 4)),
        encryptedProxySeconds: round(encrypted.valuation.seconds),
        pooledRidgeShapley: exact.map((v) => round(v, 4)),
        spearman: round(spearman(plain.valuation.phi, exact), 3),
        royalties: plain.shares.map(String),
        pooledAccuracy: round(classificationAccuracy(validation.x, validation.y, pooled), 4),
        dp,
      },
      null,
      2,
    )}\n`,
  );
}

async function main(options: {
  json: boolean;
  sides: string;
  providers: string;
  rows: string;
  lambda: string;
  valuation: boolean;
}) {
  if (options.valuation) return valuationAndPrivacy(Number(options.lambda));
  const sides = options.sides.split(",").map(Number);
  const results: Measurement[] = [];
  for (const side of sides) {
    results.push(await measure(side, Number(options.providers), Number(options.rows), Number(options.lambda)));
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
    return;
  }
  for (const r of results) {
    process.stdout.write(
      `d=${r.d} c=${r.c} providers=${r.providers}: upload ${(r.providerUploadBytes / 1e6).toFixed(2)} MB/provider, ` +
        `encrypt ${r.providerEncryptSeconds} s, aggregate ${r.aggregateSeconds} s, masked product ${r.maskedProductSeconds} s, ` +
        `solve ${r.solveSeconds} s, unmask ${r.unmaskSeconds} s; max rel. error of W ${r.maxRelErrorW}; ` +
        `accuracy ${(100 * r.accuracy).toFixed(2)} % (plaintext ridge ${(100 * r.plaintextAccuracy).toFixed(2)} %)\n`,
    );
  }
}

const program = new Command()
  .name("bench:training")
  .option("--json", "print the measurements as JSON", false)
  .option("--sides <list>", "pooled image sides (d = side²)", "8,14")
  .option("--providers <n>", "data providers", "10")
  .option("--rows <n>", "rows per provider", "600")
  .option("--lambda <l>", "ridge penalty λ (the system adds λ·n·I)", "0.001")
  .option("--valuation", "measure the valuation proxy and the DP option instead (d = 64)", false)
  .action(main);
program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
