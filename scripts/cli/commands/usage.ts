import type { Command } from "commander";
import { readFile } from "node:fs/promises";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { auditUsagePeriod } from "@ciphershare/coprocessor/roles/usage-auditor";
import { publishUsagePeriod } from "@ciphershare/coprocessor/roles/usage-coprocessor";
import {
  releaseUsagePeriod,
  sealUsageTotals,
  settleUsagePeriod,
  termsMix,
  usagePeriodShares,
  type UsageSettlement,
} from "@ciphershare/coprocessor/roles/usage-custodian";
import { readRound } from "@ciphershare/coprocessor/chain/contracts";
import { readUsageTerms } from "@ciphershare/coprocessor/chain/usage-terms";
import { ROLE_ACCOUNT } from "@ciphershare/coprocessor/roles/workspace";
import type { UsageRules } from "@ciphershare/coprocessor/usage/rules";
import { parseBigInt, parseInteger, reporter, roleContext, withCommonOptions } from "../roleContext";
import type { Options } from "./contributor";
import { passphrase } from "./custodian";

function usageCommand(parent: Command, name: string, description: string, account?: number): Command {
  return withCommonOptions(
    parent
      .command(name)
      .description(description)
      .requiredOption("--round <id>", "round id")
      .option(
        "--contributors <n>",
        "the program's contributor count (the attribution vectors' length); default and checked: the on-chain usage terms",
      )
      .option("--cap <x>", "the program's per-generation cap (default: the on-chain terms', else 1)"),
    account,
  );
}

/** The rules given on the command line; undefined when `--contributors` is not given (the on-chain terms apply). */
function rulesOf(options: Options): UsageRules | undefined {
  if (options.contributors === undefined) return undefined;
  const generationCap = Number(options.cap ?? "1");
  if (!Number.isFinite(generationCap) || generationCap <= 0) {
    throw new InvalidInputError("--cap must be a positive number.", { details: `--cap ${String(options.cap)}` });
  }
  return { contributors: parseInteger(options.contributors as string, "--contributors", 1), generationCap };
}

/** The published mix: `--usage-weight` and, below 1, the Shapley scores it mixes with (checked before any work). */
async function mixOf(options: Options): Promise<{ usageWeight: number; shapley?: number[] }> {
  const usageWeight = Number(options.usageWeight);
  if (!(usageWeight >= 0 && usageWeight <= 1)) {
    throw new InvalidInputError("--usage-weight must lie in [0, 1].", {
      details: `--usage-weight ${String(options.usageWeight)}`,
    });
  }
  if (usageWeight === 1) return { usageWeight };
  if (options.shapley === undefined) {
    throw new InvalidInputError("--usage-weight below 1 needs --shapley <file.json> (one score per contributor).");
  }
  let scores: unknown;
  try {
    scores = JSON.parse(await readFile(options.shapley as string, "utf8"));
  } catch (error) {
    throw new InvalidInputError("Cannot read the --shapley scores as JSON.", {
      details: String(options.shapley),
      cause: error,
    });
  }
  const n = parseInteger(options.contributors as string, "--contributors", 1);
  if (!Array.isArray(scores) || scores.length !== n || scores.some((v) => !Number.isFinite(v))) {
    throw new InvalidInputError("--shapley must hold a JSON array of one finite score per contributor.", {
      details: `${String(options.shapley)}: expected ${n} numbers`,
    });
  }
  return { usageWeight, shapley: scores as number[] };
}

/** `ciphershare usage …`: the coprocessor's, the custodian's and the auditor's steps of a usage-metered round. */
export function register(program: Command): void {
  const usage = program
    .command("usage")
    .description("Usage-metered rounds (docs/usage.md): aggregate (coprocessor), release (custodian), audit.");

  usageCommand(
    usage,
    "aggregate",
    "Coprocessor, Closed round: check the revealed usage reports and batches, sum them into one totals ciphertext, publish it.",
    ROLE_ACCOUNT.coprocessor,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const roundId = parseBigInt(options.round as string, "--round");
    const published = await publishUsagePeriod(ctx.deployment(), ctx.signer, ctx.store, roundId, rulesOf(options));
    const say = reporter(options);
    for (const e of published.record.excludedReports)
      say.say(`excluded report #${e.index}: ${e.reason} (${e.details})`);
    for (const e of published.record.excludedBatches) say.say(`excluded batch ${e.hash}: ${e.reason} (${e.details})`);
    say.result(
      { round: roundId, ...published },
      `published the totals ${published.totals} of ${published.record.generations} generations (${published.record.batches.length} batches)`,
    );
  });

  usageCommand(
    usage,
    "release",
    "Custodian, Finalized round: recompute and check the totals, decrypt them (flooded), anchor the release, seal each artist's total to it on-chain, settle; prints the royalties.",
    ROLE_ACCOUNT.custodian,
  )
    .option("--pool <units>", "without on-chain terms: split this pool by the released totals (largest remainder)")
    .option("--usage-weight <w>", "without on-chain terms: share of the pool split by usage (e.g. 0.7)", "1")
    .option(
      "--shapley <file.json>",
      "a JSON array of the contributors' Shapley scores (under on-chain terms: the file whose hash they publish)",
    )
    .option("--min-generations <n>", "without on-chain terms: refuse a period with fewer generations", "100")
    .option("--no-settle", "under on-chain terms: release only, do not settle the funded pool to the artists")
    .action(async (options: Options) => {
      const ctx = roleContext(options);
      const roundId = parseBigInt(options.round as string, "--round");
      // Given on the command line (a program without terms), the mix is checked before anything is read.
      const givenMix = options.contributors === undefined ? undefined : await mixOf(options);
      const deployment = ctx.deployment();
      const terms = await readUsageTerms(
        deployment,
        ctx.reader,
        (await readRound(deployment, ctx.reader, roundId)).programId,
      );
      const mix =
        terms === undefined
          ? (givenMix ?? (await mixOf(options)))
          : termsMix(terms, options.shapley === undefined ? undefined : await readFile(options.shapley as string));
      const released = await releaseUsagePeriod(
        {
          deployment: ctx.deployment(),
          signer: ctx.signer,
          store: ctx.store,
          keystorePath: ctx.ws.keystoreFile,
          passphrase: passphrase(),
          rules: rulesOf(options),
          minimumGenerations: parseInteger(options.minGenerations as string, "--min-generations", 1),
        },
        roundId,
      );
      let settlement: UsageSettlement | undefined;
      let sealed = 0;
      if (terms !== undefined) {
        // Each artist's total goes on-chain sealed to that artist alone; then (unless --no-settle) the pool is split.
        const fhevm = await ctx.fhevm();
        try {
          sealed = await sealUsageTotals({ deployment, signer: ctx.signer, fhevm }, roundId, released);
          if (options.settle !== false) {
            settlement = await settleUsagePeriod({ deployment, signer: ctx.signer, fhevm }, roundId, released, mix);
          }
        } finally {
          fhevm.destroy();
        }
      }
      const pool = settlement?.pool ?? parseBigInt((options.pool as string | undefined) ?? "1000000", "--pool");
      const shares =
        settlement?.shares ?? usagePeriodShares(pool, released, { usageWeight: mix.usageWeight }, mix.shapley).shares;
      const payee = (i: number) => (terms === undefined ? `contributor ${i}` : `artist ${i} ${terms.artists[i]}`);
      reporter(options).result(
        { round: roundId, ...released, pool, shares, sealed, settled: settlement !== undefined },
        `released ${released.record.generations} generations; anchored ${released.releaseHash}` +
          (sealed === 0 ? "" : `; sealed ${sealed} usage totals, each to its artist`) +
          (settlement === undefined ? "" : `; settled the pool of ${pool} to ${settlement.artists.length} artists`) +
          "\n" +
          released.totals.map((t, i) => `  ${payee(i)}: usage ${t.toFixed(4)}, royalty ${shares[i]}`).join("\n"),
      );
    });

  usageCommand(
    usage,
    "audit",
    "Anyone: re-derive a usage round's exclusions, totals and release; exit 1 if a check fails.",
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const roundId = parseBigInt(options.round as string, "--round");
    const deployment = ctx.deployment();
    const fhevm = await ctx.fhevm();
    let verdict: Awaited<ReturnType<typeof auditUsagePeriod>>;
    try {
      verdict = await auditUsagePeriod(deployment, ctx.reader, ctx.store, roundId, rulesOf(options), fhevm);
    } finally {
      fhevm.destroy();
    }
    reporter(options).result(
      verdict,
      verdict.checks.map((c) => `${c.passed ? "PASS" : "FAIL"} ${c.name}: ${c.detail}`).join("\n"),
    );
    if (!verdict.passed) process.exitCode = 1;
  });
}
