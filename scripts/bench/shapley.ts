/**
 * Encrypted Shapley valuation on MNIST-shaped data (d = 785 with bias, c = 10, n_v = 1 000), side by side:
 * - encrypted: the Gram method under CKKS deep-v2, end to end (keygen, client encryption, coprocessor on
 *   2 worker threads, custodian decryption of Enc(φ) only);
 * - baseline: per-coalition HE (HESV-style: Enc(w_S) → Enc(U(S)) per coalition), run in full for n = 5,
 *   extrapolated beyond as the measured median per-coalition cost (per core, divided by the 2 workers)
 *   × (2^n − 1);
 * - plaintext: the same Gram method in float64.
 * Every n up to 300 uses the exact coefficient map (the integral form); `coefficientSeconds` is the time
 * to build it, and beside it `sampledMaxRelError` is how far the plaintext φ of the sampled map
 * (2 000 permutations, what n > 20 used before) lands from the exact φ, `sampledCoefficientSeconds` its
 * time.
 * `--json`: the last stdout line is the JSON array of rows. `--large` adds n = 50 and 100, and a
 * plaintext-only row for n = 300 (the coefficient map and the plaintext Gram method; under encryption its
 * 45 450 Gram terms would take hours). `--plaintext-sizes 300` runs such rows alone.
 * `--sizes 6,8` runs only those n and `--sampled` forces the sampled method (a quick check of the sampled
 * path); without n = 5 there is no measured per-coalition cost, so the baseline columns are null.
 * `--workers N` (default 2): worker threads, or with `--queue redis://HOST:PORT` (or `--queue local`: a Redis of its
 * own) N `ciphershare coprocessor worker` processes on BullMQ running the encrypted jobs. Every row reports `workers`
 * and `plaintextRatio` (encrypted seconds / plaintext seconds of the same run).
 * By default the simulated clients submit their projection R·w_i encrypted and the coprocessor checks it (the `check`
 * phase of `encryptedBreakdown`), and the custodian generates the "submitted" key set (13 power-of-two Galois keys and the
 * conjugation at N = 16384); `--computed-projections` makes it project every client instead (`projection`) with the
 * "computed" key set (a key per projection step, 69); `--key-profile submitted|computed` overrides the key set alone
 * (e.g. submitted projections with the 69 keys). Rows report `keyProfile`, `galoisKeys` and `evaluationBundleBytes`.
 * `--scaling 1,2` (n = 20 unless `--sizes`; `--queue local` unless given): the encrypted part of each n on 1, then on 2
 * fresh `ciphershare coprocessor worker` processes against one Redis (each set loads the keys by hash, as in
 * production), the phases side by side and their ratios in the row's `scaling` field; `--repeat K` runs the arms K
 * times in alternating order (1,2 then 2,1, …) and reports each phase's median. With `--computed-projections` the
 * projection phase is the n projection jobs (the issue's "≥ 1.8× on the n = 20 projections"); the workers' setup (keys,
 * diagonals, models) is its own phase.
 */
import { Command } from "commander";
import { matrix } from "@ciphershare/protocol/linalg/matrix";
import { C, clients, D, validationSet, VALIDATION_ROWS } from "./mnist-clients";

import { exactCoefficientMap, MAX_EXACT_CLIENTS } from "@ciphershare/coprocessor/shapley/coefficients";
import {
  SHAPLEY_PARAMETER_SET,
  valueContributions,
  type Valuation,
  type ValuationOptions,
} from "@ciphershare/coprocessor/shapley/valuation";
import { referenceShapley, type ValuationProblem, members } from "@ciphershare/coprocessor/shapley/utility";
import { validationKernel } from "@ciphershare/coprocessor/shapley/gram";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { serializePublicBundle, loadPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { encryptModel, generateShapleyKeys } from "@ciphershare/coprocessor/shapley/encrypted/client";
import {
  parseProjectionKeyProfile,
  type ProjectionKeyProfile,
} from "@ciphershare/coprocessor/shapley/encrypted/key-profile";
import { computeCoalitionUtilities } from "@ciphershare/coprocessor/shapley/encrypted/pipeline";
import { loadavg } from "node:os";
import { startQueue, type BenchQueue } from "./queue";
import { parseScalingArgument, summarizeScaling, tallyJob, type Scaling, type ScalingRun } from "./scaling";

const flags = new Command()
  .name("npm run bench:shapley --")
  .option("--json", "the last stdout line is the JSON array of rows")
  .option("--large", "add n = 50 and 100 (exact) and a plaintext-only n = 300 row")
  .option("--sampled", "force the sampled method")
  .option("--sizes <list>", "only these n, comma-separated (e.g. 6,8)")
  .option("--plaintext-sizes <list>", "plaintext-only rows (no HE) for these n, e.g. 300; alone, no encrypted row")
  .option("--workers <n>", "worker threads, or worker processes with --queue", "2")
  .option(
    "--computed-projections",
    'clients submit no projection R·w_i: the coprocessor projects every client with the "computed" key set (69 Galois keys)',
  )
  .option(
    "--key-profile <profile>",
    "the custodian's Galois key set: submitted (13 powers of two + conjugation) or computed (69); default submitted, computed with --computed-projections",
  )
  .option("--queue <redis-url>", "run the encrypted jobs on BullMQ worker processes (redis://HOST:PORT, or local)")
  .option("--scaling <list>", "the encrypted part on each count of fresh worker processes, side by side (e.g. 1,2)")
  .option("--repeat <k>", "with --scaling: run the arms k times, alternating their order; medians reported", "1")
  .parse(process.argv)
  .opts<{
    json?: boolean;
    large?: boolean;
    sampled?: boolean;
    sizes?: string;
    computedProjections?: boolean;
    keyProfile?: string;
    plaintextSizes?: string;
    workers: string;
    queue?: string;
    scaling?: string;
    repeat: string;
  }>();
const json = flags.json === true;
const large = flags.large === true;
const forceSampled = flags.sampled === true;
const sizesArgument = (list: string | undefined) => list?.split(",").map(Number);
const chosenPlaintextSizes = sizesArgument(flags.plaintextSizes);
const plaintextSizes = chosenPlaintextSizes ?? (large ? [300] : []);
// `--plaintext-sizes` alone runs no encrypted row.
const SCALING = flags.scaling === undefined ? undefined : parseScalingArgument(flags.scaling);
const REPEAT = Number(flags.repeat);
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`--repeat must be an integer ≥ 1 (got ${flags.repeat})`);
// The scaling target is the n = 20.
const defaultSizes = SCALING ? [20] : large ? [5, 10, 20, 50, 100] : [5, 10, 20];
const sizes = sizesArgument(flags.sizes) ?? (chosenPlaintextSizes ? [] : defaultSizes);
// --scaling always runs on queue worker processes: its own Redis unless one is given.
const QUEUE = flags.queue ?? (SCALING ? "local" : undefined);
const SAMPLED = { method: "sampled", permutations: 2000, batches: 10, seed: 7 } as const;
const KEY_PROFILE: ProjectionKeyProfile =
  flags.keyProfile !== undefined
    ? parseProjectionKeyProfile(flags.keyProfile)
    : flags.computedProjections === true
      ? "computed"
      : "submitted";
const WORKERS = Number(flags.workers);
if (!Number.isInteger(WORKERS) || WORKERS < 1)
  throw new Error(`--workers must be an integer ≥ 1 (got ${flags.workers})`);
const PLAINTEXT_ALPHA = 1;

/** n sample counts spread log-uniformly over [1, 10⁶] (deterministic). */
function wideCounts(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(10 ** (6 * ((i * 0.618034) % 1))));
}
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Row {
  n: number;
  method: "exact" | "sampled";
  /** Worker threads, or BullMQ worker processes when `queue` is set. */
  workers: number;
  queue: boolean;
  /** Clients submitted R·w_i (checked, not computed); false with `--computed-projections`. */
  submittedProjections: boolean;
  /** The custodian's Galois key set (`key-profile.ts`), its key count and the evaluation bundle each worker loads. */
  keyProfile: string;
  galoisKeys: number;
  evaluationBundleBytes: number;
  encryptedSeconds: number;
  /** encryptedSeconds / plaintextSeconds, both measured in this run. */
  plaintextRatio: number;
  baselineSeconds: number;
  baselineExtrapolated: boolean;
  plaintextSeconds: number;
  maxRelError: number;
  speedupVsBaseline: number;
  encryptedBreakdown: Record<string, number>;
  /** The released consistency residuals of the submitted projections (flooded) and their tolerances. */
  projectionChecks?: readonly { clients: readonly number[]; residual: number; tolerance: number }[];
  /** Core-seconds of one projection z_i = (R⊗I)·w_i and of one Gram term (product, slot sum, mask). */
  projectionCoreSecondsPerClient: number;
  termCoreSecondsPerEntry: number;
  permutations?: number;
  /** Seconds to build the public coefficient map the encrypted run evaluates. */
  coefficientSeconds: number;
  /** Exact rows: the sampled map's (2 000 permutations) plaintext φ against the exact φ, and its build time. */
  sampledMaxRelError?: number;
  sampledCoefficientSeconds?: number;
  sampledPermutations?: number;
  /** Sampled rows: max_k SE(φ_k) from the plaintext run's batch estimates (data-dependent). */
  maxStandardError?: number;
  /** Sampled rows: max_k ‖se(Ā_k)‖/‖Ā_k‖ of the public coefficients, what the encrypted run reports. */
  maxRelativeCoefficientStandardError?: number;
  flagged: number[];
  /** `--scaling`: the same n on each count of worker processes; the row's other fields are the last arm's last run. */
  scaling?: Scaling & { readonly loadAverage: { readonly before: number[]; readonly after: number[] } };
}

/** A plaintext-only row: no HE, for sizes whose encrypted run would take hours. */
interface PlaintextRow {
  n: number;
  method: "exact";
  encrypted: false;
  coefficientSeconds: number;
  /** The same n with sample counts spread log-uniformly over [1, 10⁶]: the most t-nodes, the slowest map. */
  coefficientSecondsWideCounts: number;
  plaintextSeconds: number;
  sampledMaxRelError: number;
  sampledCoefficientSeconds: number;
  sampledPermutations: number;
  flagged: number[];
}

/** The sampled map's plaintext φ beside the exact one: its error and its coefficient time. */
async function sampledBeside(problem: ValuationProblem, exactPhi: readonly number[]) {
  const sampled = await valueContributions(problem, { ...SAMPLED, encrypted: false });
  const scale = Math.max(...exactPhi.map(Math.abs));
  return {
    sampledMaxRelError: Math.max(...sampled.phi.map((v, k) => Math.abs(v - exactPhi[k]))) / scale,
    sampledCoefficientSeconds: round(sampled.coefficientSeconds),
    sampledPermutations: sampled.permutations ?? SAMPLED.permutations,
  };
}

async function perCoalitionCost(problem: ValuationProblem): Promise<{ wallSeconds: number; medianSeconds: number }> {
  const n = problem.models.length;
  const kernel = validationKernel(problem.x, problem.y, problem.base);
  const ctx = await CkksContext.create(SHAPLEY_PARAMETER_SET);
  const keys = generateShapleyKeys(ctx, kernel.r, C);
  const bundle = await loadPublicBundle(ctx, keys.bundle);
  const models = problem.models.map((w) => encryptModel(ctx, w, bundle.encryptor));
  bundle.dispose();
  ctx.dispose();
  const coalitions = Array.from({ length: 2 ** n - 1 }, (_, s) => members(s + 1, n));
  const result = await computeCoalitionUtilities(
    {
      parameterSetId: SHAPLEY_PARAMETER_SET,
      bundle: serializePublicBundle(keys.bundle),
      models,
      kernel,
      sampleCounts: problem.sampleCounts,
      workers: WORKERS,
    },
    coalitions,
  );
  const sorted = [...result.milliseconds].sort((a, b) => a - b);
  return { wallSeconds: result.seconds, medianSeconds: sorted[Math.floor(sorted.length / 2)] / 1000 };
}

async function main() {
  log(`Loading MNIST: ${VALIDATION_ROWS} validation rows, d = ${D}, c = ${C}`);
  const { x, y } = validationSet();
  const problemOf = (n: number, from: ReturnType<typeof clients>): ValuationProblem => ({
    base: matrix(D, C),
    models: from.models.slice(0, n),
    sampleCounts: from.sampleCounts.slice(0, n),
    x,
    y,
  });
  const rows: (Row | PlaintextRow)[] = [];
  let baselinePerCoalition = 0;
  // With --scaling the first arm's processes start here, fresh; every later run restarts them.
  queue = QUEUE === undefined || sizes.length === 0 ? undefined : await startQueue(QUEUE, SCALING?.[0] ?? WORKERS, log);
  let workersUsed = false;
  const all = sizes.length > 0 ? clients(Math.max(...sizes)) : undefined;
  for (const n of sizes) {
    const problem = problemOf(n, all!);
    const method: "exact" | "sampled" = n <= MAX_EXACT_CLIENTS && !forceSampled ? "exact" : "sampled";
    const options = { ...SAMPLED, method };
    const plain = await valueContributions(problem, { ...options, encrypted: false });
    log(
      `n=${n}: plaintext Gram ${plain.seconds.toFixed(2)} s, U(∅)=${plain.utilityEmpty.toFixed(5)}, U(N)=${plain.utilityAll.toFixed(5)}`,
    );
    if (n === 5) {
      const explicit = referenceShapley(problem).phi;
      const gap = Math.max(...explicit.map((v, k) => Math.abs(v - plain.phi[k]))) / Math.max(...explicit.map(Math.abs));
      log(`n=5: Gram method vs explicit coalition models: max relative gap ${gap.toExponential(2)}`);
    }
    const scale = Math.max(...plain.phi.map(Math.abs));
    const relError = (valuation: Valuation) =>
      Math.max(...valuation.unflooded!.map((v, k) => Math.abs(v - plain.phi[k]))) / scale;
    const encryptedRun = (backend?: ValuationOptions["backend"]) => {
      let lastPhase = "";
      return valueContributions(problem, {
        ...options,
        workers: WORKERS,
        backend,
        keepUnflooded: true,
        submitProjections: flags.computedProjections !== true,
        keyProfile: KEY_PROFILE,
        onProgress: (phase, done, total) => {
          if (phase !== lastPhase || done === total) log(`  n=${n} ${phase} ${done}/${total}`);
          lastPhase = phase;
        },
      });
    };
    let encrypted: Valuation;
    let maxRelError: number;
    let workers = WORKERS;
    let scaling: Row["scaling"];
    if (SCALING && queue) {
      const benchQueue = queue;
      const before = loadavg();
      const runs: ScalingRun[] = [];
      let last: Valuation | undefined;
      maxRelError = 0;
      for (let repeat = 0; repeat < REPEAT; repeat++) {
        // Alternating the order (1,2 then 2,1) keeps a drift in the machine's load from favouring one arm.
        for (const count of repeat % 2 === 0 ? SCALING : [...SCALING].reverse()) {
          if (workersUsed || benchQueue.workers !== count) await benchQueue.restartWorkers(count);
          workersUsed = true;
          const jobs: Record<string, Record<string, { jobs: number; seconds: number }>> = {};
          const valuation = await encryptedRun(async (keys) => {
            const backend = await benchQueue.backend(keys, (job) => tallyJob(jobs, job));
            if (backend.parallelism !== count) {
              await backend.close();
              throw new Error(`--scaling: ${backend.parallelism} workers on the queue, expected ${count}`);
            }
            return backend;
          });
          const he = valuation.heSeconds!;
          const run: ScalingRun = { workers: count, phases: he, encryptedSeconds: valuation.seconds, jobs };
          runs.push(run);
          maxRelError = Math.max(maxRelError, relError(valuation));
          log(
            `n=${n} on ${count} worker process(es): encrypted ${round(valuation.seconds)} s, setup ${round(he.setup)}, ` +
              `check ${round(he.check)}, projection ${round(he.projection)}, terms ${round(he.terms)} s; ` +
              `jobs per worker ${JSON.stringify(Object.fromEntries(Object.entries(jobs).map(([type, byWorker]) => [type, Object.values(byWorker).map((t) => t.jobs)])))}` +
              `; max rel error ${relError(valuation).toExponential(2)}; load ${loadavg()[0].toFixed(2)}`,
          );
          // A worker that got no warm-up job loads the keys inside its first projection: that run's split is unfair.
          const warmed = Object.values(jobs.prepare ?? {}).map((tally) => tally.jobs);
          if (warmed.length !== count || warmed.some((jobCount) => jobCount !== 1))
            log(
              `  warning: warm-up jobs per worker ${JSON.stringify(warmed)}, not one each: a worker set up mid-phase`,
            );
          if (count === SCALING[SCALING.length - 1]) last = valuation;
        }
      }
      encrypted = last!;
      workers = SCALING[SCALING.length - 1];
      scaling = { ...summarizeScaling(SCALING, runs), loadAverage: { before, after: loadavg() } };
      log(
        `n=${n} scaling ${SCALING.join(" → ")} workers (median of ${REPEAT}): projection ${scaling.projectionSeconds.join(" → ")} s ` +
          `(×${scaling.projectionSpeedup}), terms ${scaling.termSeconds.join(" → ")} s (×${scaling.termSpeedup}), ` +
          `setup ${scaling.setupSeconds.join(" → ")} s, end to end ×${scaling.endToEndSpeedup}; one projection job ` +
          `${scaling.projectionSecondsPerJob.join(" → ")} s inside its worker (grows if the workers shared cores); ` +
          `load ${before.map((v) => v.toFixed(2)).join(" ")} before, ${scaling.loadAverage.after.map((v) => v.toFixed(2)).join(" ")} after`,
      );
    } else {
      encrypted = await encryptedRun(queue?.backend);
      maxRelError = relError(encrypted);
    }
    let baselineSeconds: number;
    if (n === 5) {
      log(`n=5: per-coalition HE baseline, ${2 ** n - 1} coalitions on ${WORKERS} workers…`);
      const cost = await perCoalitionCost(problem);
      baselinePerCoalition = cost.medianSeconds / WORKERS;
      baselineSeconds = cost.wallSeconds;
      log(
        `n=5: baseline ${cost.wallSeconds.toFixed(1)} s, median ${cost.medianSeconds.toFixed(2)} s per coalition per core`,
      );
    } else baselineSeconds = baselinePerCoalition > 0 ? baselinePerCoalition * (2 ** n - 1) : Number.NaN;
    const row: Row = {
      n,
      method: encrypted.method,
      workers,
      queue: queue !== undefined,
      submittedProjections: flags.computedProjections !== true,
      keyProfile: encrypted.keys?.profile ?? "",
      galoisKeys: encrypted.keys?.galoisKeys ?? 0,
      evaluationBundleBytes: encrypted.keys?.evaluationBundleBytes ?? 0,
      encryptedSeconds: round(encrypted.seconds),
      plaintextRatio: round(encrypted.seconds / plain.seconds),
      baselineSeconds: round(baselineSeconds),
      baselineExtrapolated: n !== 5,
      plaintextSeconds: round(plain.seconds),
      maxRelError,
      speedupVsBaseline: round(baselineSeconds / encrypted.seconds),
      encryptedBreakdown: Object.fromEntries(Object.entries(encrypted.heSeconds ?? {}).map(([k, v]) => [k, round(v)])),
      projectionCoreSecondsPerClient: round(((encrypted.heSeconds?.projection ?? 0) * workers) / n),
      termCoreSecondsPerEntry: round(((encrypted.heSeconds?.terms ?? 0) * workers) / ((n * (n + 1)) / 2 + n)),
      permutations: encrypted.permutations,
      coefficientSeconds: round(encrypted.coefficientSeconds),
      ...(encrypted.method === "exact" ? await sampledBeside(problem, plain.phi) : {}),
      // φ's standard error comes from the plaintext run (the encrypted one releases only φ); the
      // coefficients' relative standard error is public and the same in both.
      maxStandardError: plain.method === "sampled" ? Math.max(...(plain.standardError ?? [])) : undefined,
      maxRelativeCoefficientStandardError: encrypted.coefficientStandardError?.maxRelative,
      flagged: encrypted.phi.flatMap((v, k) => (v <= 0 ? [k] : [])),
      projectionChecks: encrypted.projectionChecks,
      ...(scaling ? { scaling } : {}),
    };
    rows.push(row);
    log(
      `n=${n}: encrypted ${row.encryptedSeconds} s (${JSON.stringify(row.encryptedBreakdown)}), baseline ${row.baselineSeconds} s` +
        `${row.baselineExtrapolated ? " (extrapolated)" : ""}, plaintext ${row.plaintextSeconds} s, max rel error ${maxRelError.toExponential(2)}` +
        `, coefficients ${row.coefficientSeconds} s`,
    );
  }
  for (const n of plaintextSizes) {
    // 300 clients cannot all get 10 of the 7 000 training digits at α = 0.5; α = 1 still skews labels.
    const problem = problemOf(n, clients(n, PLAINTEXT_ALPHA));
    const plain = await valueContributions(problem, { method: "exact", encrypted: false });
    const wideStarted = performance.now();
    exactCoefficientMap(wideCounts(n), validationKernel(x, y, problem.base));
    const coefficientSecondsWideCounts = round((performance.now() - wideStarted) / 1000);
    const row: PlaintextRow = {
      n,
      method: "exact",
      encrypted: false,
      coefficientSeconds: round(plain.coefficientSeconds),
      coefficientSecondsWideCounts,
      plaintextSeconds: round(plain.seconds),
      ...(await sampledBeside(problem, plain.phi)),
      flagged: plain.phi.flatMap((v, k) => (v <= 0 ? [k] : [])),
    };
    rows.push(row);
    log(
      `n=${n} (plaintext only): exact coefficients ${row.coefficientSeconds} s (${row.coefficientSecondsWideCounts} s ` +
        `with counts spread over 1…10⁶), plaintext ${row.plaintextSeconds} s; ` +
        `sampled (${row.sampledPermutations} permutations) ${row.sampledCoefficientSeconds} s, off by ${row.sampledMaxRelError.toExponential(2)} of max |φ|`,
    );
  }
  await queue?.stop();
  if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else
    console.table(
      rows.map((row) => ({ ...row, encryptedBreakdown: undefined, flagged: undefined, scaling: undefined })),
    );
}

const round = (value: number) => Math.round(value * 1000) / 1000;

let queue: BenchQueue | undefined;

main().catch(async (error: unknown) => {
  await queue?.stop();
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
