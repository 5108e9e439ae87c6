import type { Command } from "commander";
import { auditRound } from "@ciphershare/coprocessor/roles/auditor";
import {
  parseBigInt,
  parseInteger,
  reporter,
  roleContext,
  withCommonOptions,
  type CommonOptions,
} from "../roleContext";

type Options = CommonOptions & { round: string; skipShapley?: boolean; workers: string };

/** `ciphershare audit --round N`: re-verifies a round from chain events and blobs; exit code 1 on any failure. */
export function register(program: Command): void {
  withCommonOptions(
    program
      .command("audit")
      .description("Re-verify a round from chain events and blobs alone; exit code 1 if any check fails.")
      .requiredOption("--round <id>", "round id")
      .option("--skip-shapley", "do not re-run the encrypted Shapley computation (its check then fails)")
      .option("--workers <n>", "worker threads for the Shapley re-run", "2"),
    0,
  ).action(async (options: Options) => {
    const roundId = parseBigInt(options.round, "--round");
    const workers = parseInteger(options.workers, "--workers");
    const ctx = roleContext(options);
    const fhevm = await ctx.fhevm();
    try {
      const verdict = await auditRound(
        {
          deployment: ctx.deployment(),
          reader: ctx.reader,
          store: ctx.store,
          storeForUri: ctx.storeForUri,
          fhevm,
          skipScores: options.skipShapley,
          workers,
        },
        roundId,
      );
      const say = reporter(options);
      for (const check of verdict.checks)
        say.say(`${check.restricted ? "–" : check.passed ? "✔" : "✘"} ${check.name}: ${check.detail}`);
      say.result(
        verdict,
        verdict.passed ? `round ${verdict.round}: audit passed` : `round ${verdict.round}: AUDIT FAILED`,
      );
      if (!verdict.passed) process.exitCode = 1;
    } finally {
      fhevm.destroy();
    }
  });
}
