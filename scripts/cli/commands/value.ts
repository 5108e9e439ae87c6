import { Command, Option } from "commander";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { readModelUpdateFile } from "@ciphershare/coprocessor/storage/model-update-file";
import { matrix, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import { valueContributions } from "@ciphershare/coprocessor/shapley/valuation";
import { MAX_EXACT_CLIENTS } from "@ciphershare/coprocessor/shapley/coefficients";

interface ValueOptions {
  base: string;
  x: string;
  y: string;
  model: string[];
  exact?: boolean;
  samples?: string;
  batches?: string;
  seed?: string;
  plaintext?: boolean;
  workers?: string;
  json?: boolean;
}

/**
 * `ciphershare value`: Shapley values of client models from local .npy files, for users and auditors.
 * Without --plaintext it runs the encrypted path end to end with ephemeral keys and prints only what the
 * custodian would release (φ, flooded; U(N) follows from efficiency).
 */
export function register(program: Command): void {
  program
    .command("value")
    .description("Value client models by their exact (or sampled) Shapley value on a validation set.")
    .requiredOption("--base <w0.npy>", "round base model w0 (d×c)")
    .requiredOption("--x <X.npy>", "validation inputs (n_v×d; include a bias column yourself if wanted)")
    .requiredOption("--y <Y.npy>", "validation targets (n_v×c)")
    .option("--model <w.npy:count>", "a client model and its sample count; repeat per client", collect, [])
    .addOption(
      new Option(
        "--exact",
        `exact Shapley coefficients (the default for n ≤ ${MAX_EXACT_CLIENTS}; no coalition enumeration)`,
      ).conflicts("samples"),
    )
    .option("--samples <permutations>", "Monte Carlo permutation sampling with this many permutations")
    .option("--batches <count>", "independent batches for the sampling standard error", "10")
    .option("--seed <integer>", "seed of the permutation sampler", "1")
    .option("--plaintext", "skip encryption: the same Gram method in float64")
    .option("--workers <count>", "worker threads for the encrypted path", "2")
    .option("--json", "print one JSON object as the last line")
    .action(async (options: ValueOptions) => {
      const models = options.model.map(parseModelArgument);
      if (models.length === 0) throw new InvalidInputError("Give at least one --model <w.npy:count>.");
      const problem = {
        base: await readMatrix(options.base, "--base"),
        x: await readMatrix(options.x, "--x"),
        y: await readMatrix(options.y, "--y"),
        models: await Promise.all(models.map(({ path }) => readMatrix(path, "--model"))),
        sampleCounts: models.map(({ count }) => count),
      };
      const permutations = options.samples === undefined ? undefined : positiveInteger(options.samples, "--samples");
      const method = options.exact ? "exact" : permutations !== undefined ? "sampled" : undefined;
      const valuation = await valueContributions(problem, {
        method,
        permutations,
        batches: positiveInteger(options.batches ?? "10", "--batches"),
        seed: positiveInteger(options.seed ?? "1", "--seed"),
        encrypted: !options.plaintext,
        workers: Number.parseInt(options.workers ?? "2", 10),
      });
      const output = {
        phi: valuation.phi,
        utilityEmpty: valuation.utilityEmpty,
        utilityAll: valuation.utilityAll,
        method: valuation.method,
        encrypted: valuation.encrypted,
        seconds: valuation.seconds,
        // Sampled: `standardError` is φ's own (plaintext mode only); `coefficientStandardError` is the
        // public sampling error of the coefficients (both modes). See docs/shapley.md.
        ...(valuation.method === "sampled"
          ? {
              permutations: valuation.permutations,
              ...(valuation.standardError ? { standardError: valuation.standardError } : {}),
              coefficientStandardError: valuation.coefficientStandardError,
            }
          : {}),
      };
      if (options.json) {
        process.stdout.write(`${JSON.stringify(output)}\n`);
        return;
      }
      process.stdout.write(
        `Shapley values (${valuation.method}, ${valuation.encrypted ? "encrypted, custodian release" : "plaintext"}, ` +
          `${valuation.seconds.toFixed(2)} s)\n`,
      );
      valuation.phi.forEach((phi, i) => {
        const se =
          valuation.method === "sampled" && valuation.standardError
            ? ` ± ${valuation.standardError[i].toExponential(2)}`
            : "";
        const flag = phi <= 0 ? "  (no payout: φ ≤ 0)" : "";
        process.stdout.write(`  ${models[i].path}: φ = ${phi.toExponential(6)}${se}${flag}\n`);
      });
      process.stdout.write(`U(∅) = ${valuation.utilityEmpty}, U(N) = ${valuation.utilityAll}\n`);
      const coefficients = valuation.coefficientStandardError;
      if (coefficients) {
        process.stdout.write(
          `Sampled coefficients (${valuation.permutations} permutations): max relative standard error ` +
            `${coefficients.maxRelative.toExponential(2)} (public; ${valuation.encrypted ? "φ's own standard error would need more than φ decrypted" : "± above is φ's standard error"})\n`,
        );
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseModelArgument(argument: string): { path: string; count: number } {
  const colon = argument.lastIndexOf(":");
  const count = colon > 0 ? Number(argument.slice(colon + 1)) : Number.NaN;
  if (colon <= 0 || !Number.isFinite(count) || count <= 0) {
    throw new InvalidInputError("Each --model needs the form <w.npy>:<positive sample count>.", {
      details: `got "${argument}"`,
    });
  }
  return { path: argument.slice(0, colon), count };
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidInputError(`${flag} must be a positive integer.`, { details: `got "${text}"` });
  }
  return value;
}

/** Reads one 1-D or 2-D array (.npy, .safetensors or .json, by extension) as a matrix; 1-D is k×1. */
async function readMatrix(path: string, flag: string): Promise<Matrix> {
  const update = await readModelUpdateFile(path);
  const shape = update.tensors.length === 1 ? update.tensors[0].shape : [];
  if (shape.length < 1 || shape.length > 2) {
    throw new InvalidInputError(`The ${flag} file must hold one 1-D or 2-D array.`, {
      details: `${path}: ${update.tensors.map((t) => `${t.name} (${t.shape.join("×")})`).join(", ")}`,
    });
  }
  return matrix(shape[0], shape[1] ?? 1, update.values);
}
