/**
 * Usage-metered royalties benchmark (issue 15): the operator encrypting per-generation attribution vectors into
 * UsageBatch envelopes under the program's deep-v2 key, the coprocessor's homomorphic sum of the period into one
 * totals ciphertext, and the custodian's flooded release of it (1-of-1 committee), for 6 and 100 contributors.
 *
 *   npm run bench:usage -- [--json] [--generations 10000] [--contributors 6,100] [--batch 1000]
 *
 * With --json the last stdout line is the JSON array of rows {contributors, generations, encryptSecondsPerThousand,
 * aggregateSeconds, releaseSeconds, uploadBytesPerThousand, …}; the extra fields give the plaintext sum's time (for
 * the ratio), the ciphertext counts and the precision before and after flooding. Wall-clock numbers on a shared
 * machine are noisy.
 */
import { Command } from "commander";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import { loadPublicBundle, loadSecretKey, powerOfTwoSteps } from "@ciphershare/protocol/ckks/keys";
import { decryptEnvelopeValues } from "@ciphershare/protocol/ckks/update";
import { parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import { KeyCustodian } from "@ciphershare/coprocessor/keys/key-custodian";
import { openKeystore, TEST_SCRYPT } from "@ciphershare/coprocessor/keys/keystore";
import { InMemoryRoundCommitments } from "@ciphershare/coprocessor/keys/policy";
import { plaintextUsageTotals } from "@ciphershare/coprocessor/usage/attribution";
import { aggregateUsage } from "@ciphershare/coprocessor/usage/aggregate";
import { encryptUsageBatch } from "@ciphershare/coprocessor/usage/batch";
import { usageRelease } from "@ciphershare/coprocessor/usage/release";
import { syntheticAttributions } from "@ciphershare/coprocessor/usage/synthetic";
import { verifyUsageBatches } from "@ciphershare/coprocessor/usage/verify";

const flags = new Command()
  .name("npm run bench:usage --")
  .option("--json", "the last stdout line is the JSON array of rows")
  .option("--generations <n>", "generations per period", "10000")
  .option("--contributors <list>", "contributor counts, comma-separated", "6,100")
  .option("--batch <n>", "generations per uploaded batch", "1000")
  .parse(process.argv)
  .opts<{ json?: boolean; generations: string; contributors: string; batch: string }>();
const json = flags.json === true;
const generations = Number(flags.generations);
const batchSize = Number(flags.batch);
const contributorCounts = flags.contributors.split(",").map(Number);
for (const [name, value] of [
  ["--generations", generations],
  ["--batch", batchSize],
  ...contributorCounts.map((n) => ["--contributors", n] as const),
] as const) {
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`${name} must be a positive integer, got ${value}\n`);
    process.exit(2);
  }
}
const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
const round = (value: number, digits = 3) => Number(value.toPrecision(digits));
const seconds = (start: number) => (performance.now() - start) / 1000;

interface Row {
  contributors: number;
  generations: number;
  encryptSecondsPerThousand: number;
  aggregateSeconds: number;
  releaseSeconds: number;
  uploadBytesPerThousand: number;
  plaintextSumSeconds: number;
  batches: number;
  ciphertexts: number;
  maxRelativeErrorBeforeFlooding: number;
  maxRelativeErrorReleased: number;
}

function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] > 0) max = Math.max(max, Math.abs(actual[i] - expected[i]) / expected[i]);
  }
  return max;
}

async function main(): Promise<void> {
  const ctx = await CkksContext.create(ROUND_PARAMETER_SET_ID);
  const passphrase = "bench custodian";
  let start = performance.now();
  const epoch = await KeyCustodian.generateEpochKeys(
    ctx,
    passphrase,
    { galoisSteps: powerOfTwoSteps(ctx.slotCount, false) },
    TEST_SCRYPT,
  );
  log(`${ctx.parameterSet.id} keys (power-of-two rotations): ${seconds(start).toFixed(1)} s`);
  const bundle = await loadPublicBundle(ctx, epoch.bundleBytes);
  const rows: Row[] = [];
  for (const contributors of contributorCounts) {
    const rules = { contributors, generationCap: 1 };
    const vectors = syntheticAttributions(generations, contributors, { seed: 7, unused: [contributors - 1] });

    start = performance.now();
    const expected = plaintextUsageTotals(vectors, contributors);
    const plaintextSumSeconds = seconds(start);

    start = performance.now();
    const batches: Uint8Array[] = [];
    for (let from = 0; from < generations; from += batchSize) {
      batches.push(await encryptUsageBatch(ctx, bundle, rules, vectors.slice(from, from + batchSize)));
    }
    const encryptSeconds = seconds(start);
    const uploadBytes = batches.reduce((sum, b) => sum + b.length, 0);

    start = performance.now();
    const candidates = [];
    for (const [i, bytes] of batches.entries()) {
      const count = Math.min(batchSize, generations - i * batchSize);
      candidates.push({ commitment: { hash: await envelopeCommitment(bytes), generations: count }, bytes });
    }
    const verified = await verifyUsageBatches(candidates, {
      parameterSetId: ctx.parameterSet.id,
      publicBundleHash: bundle.hash,
      contributors,
      slotCount: ctx.slotCount,
    });
    const { envelope, valueExponent } = await aggregateUsage(ctx, bundle.galoisKeys!, verified.included, {
      publicBundleHash: bundle.hash,
      rules,
    });
    const aggregateSeconds = seconds(start);
    const ciphertexts = verified.included.reduce((sum, b) => sum + b.envelope.header.chunkCount, 0);

    const { secretKey } = await openKeystore(epoch.keystore, passphrase);
    const secret = loadSecretKey(ctx, secretKey);
    const exact = decryptEnvelopeValues(ctx, await parseEnvelope(envelope), secret.decryptor).map(
      (v) => v * 2 ** valueExponent,
    );
    secret.dispose();
    secretKey.fill(0);

    const period = BigInt(contributors);
    const commitments = new InMemoryRoundCommitments();
    for (const { commitment } of candidates) commitments.publishInput(period, commitment.hash);
    commitments.publishOutput(period, await envelopeCommitment(envelope));
    const custodian = await KeyCustodian.open(ctx, epoch.keystore, passphrase, { commitments });
    start = performance.now();
    const released = await custodian.decryptOutput(
      period,
      envelope,
      usageRelease(ctx, rules, { generations, ciphertexts }),
    );
    const releaseSeconds = seconds(start);
    custodian.dispose();
    const releasedTotals = released.values.map((v) => v * released.valueScale);

    const row: Row = {
      contributors,
      generations,
      encryptSecondsPerThousand: round((encryptSeconds * 1000) / generations),
      aggregateSeconds: round(aggregateSeconds),
      releaseSeconds: round(releaseSeconds),
      uploadBytesPerThousand: Math.round((uploadBytes * 1000) / generations),
      plaintextSumSeconds: round(plaintextSumSeconds),
      batches: batches.length,
      ciphertexts,
      maxRelativeErrorBeforeFlooding: round(maxRelativeError(exact, expected), 2),
      maxRelativeErrorReleased: round(maxRelativeError(releasedTotals, expected), 2),
    };
    rows.push(row);
    log(
      `n = ${contributors}: ${generations} generations in ${row.batches} batches (${ciphertexts} ciphertexts); ` +
        `encrypt ${row.encryptSecondsPerThousand} s / 1000, upload ${(row.uploadBytesPerThousand / 1e6).toFixed(2)} MB / 1000; ` +
        `aggregate ${row.aggregateSeconds} s (plaintext sum ${row.plaintextSumSeconds} s, ` +
        `${Math.round(aggregateSeconds / Math.max(plaintextSumSeconds, 1e-6))}×); release ${row.releaseSeconds} s; ` +
        `relative error ${row.maxRelativeErrorBeforeFlooding} before flooding, ${row.maxRelativeErrorReleased} released`,
    );
  }
  bundle.dispose();
  ctx.dispose();
  if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
