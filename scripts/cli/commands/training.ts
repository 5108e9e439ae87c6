import type { Command } from "commander";
import { join } from "node:path";
import { ROLE_ACCOUNT, writeJsonFile, type Workspace } from "@ciphershare/coprocessor/roles/workspace";
import {
  publishTrainingSystem,
  releaseTrainingModel,
  unmaskTrainingModel,
} from "@ciphershare/coprocessor/roles/training";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import { parseBigInt, reporter, roleContext, withCommonOptions } from "../roleContext";
import { passphrase } from "./custodian";
import type { Options } from "./contributor";

/** Where the coprocessor keeps a round's secret mask (its own workspace; never published). */
export function maskFile(ws: Workspace, roundId: bigint): string {
  return join(ws.home, `training-mask-round-${roundId}.json`);
}

/** The pointer to a round's model record that `training unmask` leaves for `buyer decrypt-model`. */
export function modelPointerFile(ws: Workspace, roundId: bigint): string {
  return join(ws.home, `training-model-round-${roundId}.json`);
}

/** `ciphershare training …`: the coprocessor's and the custodian's steps of a training round. */
export function register(program: Command): void {
  const training = program
    .command("training")
    .description("Encrypted-data training rounds (docs/training.md): publish the masked system, release, unmask.");

  withCommonOptions(
    training
      .command("publish")
      .description(
        "Coprocessor, round Closed: check each provider's upload, aggregate + λnI, mask two-sided, publish Enc(masked system).",
      ),
    ROLE_ACCOUNT.coprocessor,
  )
    .requiredOption("--round <id>", "round id")
    .option("--workers <n>", "worker threads of the valuation (Enc(φ))")
    .action(async (options: Options) => {
      const ctx = roleContext(options);
      const roundId = parseBigInt(options.round as string, "--round");
      const published = await publishTrainingSystem(
        ctx.deployment(),
        ctx.signer,
        ctx.store,
        roundId,
        maskFile(ctx.ws, roundId),
        { workers: options.workers === undefined ? undefined : Number(options.workers) },
      );
      const say = reporter(options);
      for (const e of published.record.excluded)
        say.say(`  excluded commitment ${e.index}: ${e.reason} (${e.details})`);
      say.result(
        published,
        `round ${roundId}: ${published.record.included.length} providers (${published.record.totalRows} rows) included; masked system ${published.maskedSystem} published`,
      );
    });

  withCommonOptions(
    training
      .command("release")
      .description(
        "Custodian, round Finalized: decrypt only the committed masked system (flooded), solve, encrypt U under the buyer's key, anchor.",
      ),
    ROLE_ACCOUNT.custodian,
  )
    .requiredOption("--round <id>", "round id")
    .action(async (options: Options) => {
      const ctx = roleContext(options);
      const roundId = parseBigInt(options.round as string, "--round");
      const state = StateStore.open(ctx.ws.custodianDb);
      const fhevm = await ctx.fhevm();
      const say = reporter(options);
      let released: Awaited<ReturnType<typeof releaseTrainingModel>>;
      try {
        released = await releaseTrainingModel(
          {
            deployment: ctx.deployment(),
            signer: ctx.signer,
            store: ctx.store,
            keystorePath: ctx.ws.keystoreFile,
            passphrase: passphrase(),
            state,
            fhevm,
            log: (line) => say.say(line),
          },
          roundId,
        );
      } finally {
        fhevm.destroy();
        state.close();
      }
      const valuation = released.record.valuation;
      const flagged = valuation?.residuals.flagged ?? [];
      const phi =
        valuation === undefined
          ? ""
          : `; φ ${valuation.phi.map((p) => p.toPrecision(4)).join(", ")}; ρ ${valuation.residuals.rho
              .map((r) => r.toExponential(2))
              .join(", ")}` +
            (flagged.length === 0
              ? ""
              : `; paid nothing (local model not its statistics' ridge model): ${flagged
                  .map((f) => valuation.providers[f.position])
                  .join(", ")}`);
      say.result(
        released,
        `round ${roundId}: U under the buyer's key ${released.record.u}, release anchored${phi}` +
          (released.settlement === undefined ? "" : `; pool ${released.settlement}`),
      );
    });

  withCommonOptions(
    training
      .command("unmask")
      .description("Coprocessor, release anchored: Enc_buyer(W) = N·U·Sᵀ under the buyer's key, published."),
    ROLE_ACCOUNT.coprocessor,
  )
    .requiredOption("--round <id>", "round id")
    .action(async (options: Options) => {
      const ctx = roleContext(options);
      const roundId = parseBigInt(options.round as string, "--round");
      const unmasked = await unmaskTrainingModel(
        ctx.deployment(),
        ctx.reader,
        ctx.store,
        roundId,
        maskFile(ctx.ws, roundId),
      );
      writeJsonFile(modelPointerFile(ctx.ws, roundId), { round: roundId.toString(), modelRecord: unmasked.recordHash });
      reporter(options).result(
        unmasked,
        `round ${roundId}: Enc_buyer(W) ${unmasked.modelHash} (record ${unmasked.recordHash})`,
      );
    });
}
