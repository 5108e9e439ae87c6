import type { Command } from "commander";
import { pendingRounds, processRound, type CoprocessorOptions } from "@ciphershare/coprocessor/roles/coprocessor";
import { ROLE_ACCOUNT } from "@ciphershare/coprocessor/roles/workspace";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import { parseInteger, reporter, roleContext, withCommonOptions, type CommonOptions } from "../roleContext";

type Options = CommonOptions & { once?: boolean; interval: string; workers: string };

/**
 * Test hook: `CIPHERSHARE_KILL_AT=<point>` makes the process SIGKILL itself at that checkpoint (crash/resume
 * tests). Points: after-verify-inputs, after-fedavg, after-shapley, before-broadcast-publish, after-broadcast-publish.
 */
function killAt(point: string): void {
  if (process.env.CIPHERSHARE_KILL_AT === point) process.kill(process.pid, "SIGKILL");
}

/** `ciphershare coprocessor run`: watches the chain for closed rounds and processes them. */
export function register(program: Command): void {
  const coprocessor = program
    .command("coprocessor")
    .description("Coprocessor: verify inputs, FedAvg + encrypted Shapley, publish.");
  withCommonOptions(
    coprocessor
      .command("run")
      .description("Process every closed round of this coprocessor's programs; resumes from its SQLite journal.")
      .option("--once", "process what is pending, then exit")
      .option("--interval <ms>", "polling interval while watching", "1000")
      .option("--workers <n>", "worker threads for encrypted Shapley", "2"),
    ROLE_ACCOUNT.coprocessor,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const say = reporter(options);
    const state = StateStore.open(ctx.ws.coprocessorDb);
    const role: CoprocessorOptions = {
      deployment: ctx.deployment(),
      signer: ctx.signer,
      state,
      store: ctx.store,
      storeForUri: ctx.storeForUri,
      workers: parseInteger(options.workers, "--workers"),
      log: (line) => say.say(`[coprocessor] ${line}`),
      onProgress: (round, phase, done, total) => say.say(`[coprocessor] round ${round}: ${phase} ${done}/${total}`),
      checkpoint: killAt,
    };
    const processed: number[] = [];
    let stopping = false;
    process.on("SIGTERM", () => (stopping = true));
    process.on("SIGINT", () => (stopping = true));
    try {
      for (;;) {
        for (const roundId of await pendingRounds(role)) {
          say.say(`[coprocessor] round ${roundId}: processing`);
          await processRound(role, roundId);
          processed.push(Number(roundId));
        }
        if (options.once || stopping) break;
        await new Promise((resolve) => setTimeout(resolve, parseInteger(options.interval, "--interval", 10)));
        if (stopping) break;
      }
      say.result({ processed });
    } finally {
      state.close();
    }
  });
}
