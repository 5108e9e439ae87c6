/**
 * Encrypted Shapley valuation on MNIST-shaped data (d = 785 with bias, c = 10, n_v = 1 000), side by side:
 * - encrypted: the Gram method under CKKS deep-v2, end to end (keygen, client encryption, coprocessor on
 *   2 worker threads, custodian decryption of Enc(φ) only);
 * - baseline: per-coalition HE (HESV-style: Enc(w_S) → Enc(U(S)) per coalition), run in full for n = 5,
 *   extrapolated beyond as the measured median per-coalition cost (per core, divided by the 2 workers)
 *   × (2^n − 1);
 * - plaintext: the same Gram method in float64.
 * `--json`: the last stdout line is the JSON array of rows. `--large` adds n = 50 and 100 (sampled).
 * `--sizes 6,8` runs only those n and `--sampled` forces the sampled method (a quick check of the sampled
 * path); without n = 5 there is no measured per-coalition cost, so the baseline columns are null.
 */
import { Command } from "commander";
import { matrix } from "@ciphershare/coprocessor/linalg/matrix";
import { C, clients, D, validationSet, VALIDATION_ROWS } from "./mnist-clients";

import { SHAPLEY_PARAMETER_SET, valueContributions } from "@ciphershare/coprocessor/shapley/valuation";
import { referenceShapley, type ValuationProblem, members } from "@ciphershare/coprocessor/shapley/utility";
import { validationKernel } from "@ciphershare/coprocessor/shapley/gram";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { serializePublicBundle, loadPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { encryptModel, generateShapleyKeys } from "@ciphershare/coprocessor/shapley/encrypted/client";
import { computeCoalitionUtilities } from "@ciphershare/coprocessor/shapley/encrypted/pipeline";

const flags = new Command()
  .name("npm run bench:shapley --")
  .option("--json", "the last stdout line is the JSON array of rows")
  .option("--large", "add n = 50 and 100 (sampled)")
  .option("--sampled", "force the sampled method")
  .option("--sizes <list>", "only these n, comma-separated (e.g. 6,8)")
  .parse(process.argv)
  .opts<{ json?: boolean; large?: boolean; sampled?: boolean; sizes?: string }>();
const json = flags.json === true;
const large = flags.large === true;
const forceSampled = flags.sampled === true;
const chosenSizes = flags.sizes?.split(",").map(Number);
const WORKERS = 2;
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Row {
  n: number;
  method: "exact" | "sampled";
  encryptedSeconds: number;
  baselineSeconds: number;
  baselineExtrapolated: boolean;
  plaintextSeconds: number;
  maxRelError: number;
  speedupVsBaseline: number;
  encryptedBreakdown: Record<string, number>;
  /** Core-seconds of one projection z_i = (R⊗I)·w_i and of one Gram term (product, slot sum, mask). */
  projectionCoreSecondsPerClient: number;
  termCoreSecondsPerEntry: number;
  permutations?: number;
  /** Sampled rows: max_k SE(φ_k) from the plaintext run's batch estimates (data-dependent). */
  maxStandardError?: number;
  /** Sampled rows: max_k ‖se(Ā_k)‖/‖Ā_k‖ of the public coefficients, what the encrypted run reports. */
  maxRelativeCoefficientStandardError?: number;
  flagged: number[];
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
  const sizes = chosenSizes ?? (large ? [5, 10, 20, 50, 100] : [5, 10, 20]);
  log(`Loading MNIST: ${VALIDATION_ROWS} validation rows, d = ${D}, c = ${C}`);
  const { x, y } = validationSet();
  const all = clients(Math.max(...sizes));
  const rows: Row[] = [];
  let baselinePerCoalition = 0;
  for (const n of sizes) {
    const problem: ValuationProblem = {
      base: matrix(D, C),
      models: all.models.slice(0, n),
      sampleCounts: all.sampleCounts.slice(0, n),
      x,
      y,
    };
    const method = n <= 20 && !forceSampled ? "exact" : "sampled";
    const options = { method, permutations: 2000, batches: 10, seed: 7 } as const;
    const plain = await valueContributions(problem, { ...options, encrypted: false });
    log(
      `n=${n}: plaintext Gram ${plain.seconds.toFixed(2)} s, U(∅)=${plain.utilityEmpty.toFixed(5)}, U(N)=${plain.utilityAll.toFixed(5)}`,
    );
    if (n === 5) {
      const explicit = referenceShapley(problem).phi;
      const gap = Math.max(...explicit.map((v, k) => Math.abs(v - plain.phi[k]))) / Math.max(...explicit.map(Math.abs));
      log(`n=5: Gram method vs explicit coalition models: max relative gap ${gap.toExponential(2)}`);
    }
    let lastPhase = "";
    const encrypted = await valueContributions(problem, {
      ...options,
      workers: WORKERS,
      keepUnflooded: true,
      onProgress: (phase, done, total) => {
        if (phase !== lastPhase || done === total) log(`  n=${n} ${phase} ${done}/${total}`);
        lastPhase = phase;
      },
    });
    const scale = Math.max(...plain.phi.map(Math.abs));
    const maxRelError = Math.max(...encrypted.unflooded!.map((v, k) => Math.abs(v - plain.phi[k]))) / scale;
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
      encryptedSeconds: round(encrypted.seconds),
      baselineSeconds: round(baselineSeconds),
      baselineExtrapolated: n !== 5,
      plaintextSeconds: round(plain.seconds),
      maxRelError,
      speedupVsBaseline: round(baselineSeconds / encrypted.seconds),
      encryptedBreakdown: Object.fromEntries(Object.entries(encrypted.heSeconds ?? {}).map(([k, v]) => [k, round(v)])),
      projectionCoreSecondsPerClient: round(((encrypted.heSeconds?.projection ?? 0) * WORKERS) / n),
      termCoreSecondsPerEntry: round(((encrypted.heSeconds?.terms ?? 0) * WORKERS) / ((n * (n + 1)) / 2 + n)),
      permutations: encrypted.permutations,
      // φ's standard error comes from the plaintext run (the encrypted one releases only φ); the
      // coefficients' relative standard error is public and the same in both.
      maxStandardError: plain.method === "sampled" ? Math.max(...(plain.standardError ?? [])) : undefined,
      maxRelativeCoefficientStandardError: encrypted.coefficientStandardError?.maxRelative,
      flagged: encrypted.phi.flatMap((v, k) => (v <= 0 ? [k] : [])),
    };
    rows.push(row);
    log(
      `n=${n}: encrypted ${row.encryptedSeconds} s (${JSON.stringify(row.encryptedBreakdown)}), baseline ${row.baselineSeconds} s` +
        `${row.baselineExtrapolated ? " (extrapolated)" : ""}, plaintext ${row.plaintextSeconds} s, max rel error ${maxRelError.toExponential(2)}`,
    );
  }
  if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else console.table(rows.map(({ encryptedBreakdown: _b, flagged: _f, ...rest }) => rest));
}

const round = (value: number) => Math.round(value * 1000) / 1000;

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
