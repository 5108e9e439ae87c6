import type { Command } from "commander";
import { readFile } from "node:fs/promises";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { parseNpyArray } from "@ciphershare/protocol/formats/npy";
import { registerContributor, revealContribution } from "@ciphershare/coprocessor/roles/contributor";
import { OPERATOR_ACCOUNT, reportUsage } from "@ciphershare/coprocessor/roles/operator";
import { storeUri } from "@ciphershare/coprocessor/roles/workspace";
import { attributionRows } from "@ciphershare/coprocessor/usage/attribution";
import { DEFAULT_USAGE_BATCH } from "@ciphershare/coprocessor/usage/report";
import { parseBigInt, parseInteger, reporter, roleContext, withCommonOptions } from "../roleContext";
import { untilRevealPhase, type Options } from "./contributor";

async function readAttributions(path: string): Promise<Float64Array[]> {
  if (!path.endsWith(".npy")) {
    throw new InvalidInputError("--attributions must be a .npy file of shape [generations, contributors].", {
      details: path,
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new InvalidInputError("Cannot read the attributions file.", { details: path, cause: error });
  }
  return attributionRows(parseNpyArray(bytes));
}

function parseCap(value: string): number {
  const cap = Number(value);
  if (!Number.isFinite(cap) || cap <= 0) {
    throw new InvalidInputError("--cap must be a positive number.", { details: `--cap ${value}` });
  }
  return cap;
}

/** `ciphershare operator …`: the model operator (inference service) reporting encrypted usage. */
export function register(program: Command): void {
  const operator = program
    .command("operator")
    .description("Model operator: encrypt per-generation usage attributions, upload the batches, commit the report.");

  withCommonOptions(
    operator
      .command("register")
      .description("Register the operator's account (it commits usage reports as the round's registered parties do)."),
    OPERATOR_ACCOUNT,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const outcome = await registerContributor(ctx.deployment(), ctx.signer);
    reporter(options).result({ address: ctx.signer.address, outcome }, `${ctx.signer.address}: ${outcome}`);
  });

  withCommonOptions(
    operator
      .command("report")
      .description(
        "Screen a period's attribution vectors, encrypt the valid ones in batches under the program key, upload them, and commit the report (batch hashes, public count).",
      ),
    OPERATOR_ACCOUNT,
  )
    .requiredOption("--round <id>", "round id (in its commit phase)")
    .requiredOption(
      "--attributions <file.npy>",
      "float32/float64 array [generations, contributors], one row per generation",
    )
    .option("--contributors <n>", "the program's contributor count (default: the file's columns)")
    .option("--cap <x>", "per-generation cap: the most attribution one generation may carry in total", "1")
    .option("--batch <n>", "generations per uploaded batch", String(DEFAULT_USAGE_BATCH))
    .option("--reveal", "then wait for the reveal phase and reveal the report (as `operator reveal`)")
    .option("--advance-time", "with --reveal, dev chain only: move the clock past the commit deadline")
    .option("--timeout <seconds>", "with --reveal: how long to wait for the reveal phase", "3600")
    .action(async (options: Options) => {
      const ctx = roleContext(options);
      const say = reporter(options);
      const roundId = parseBigInt(options.round as string, "--round");
      const vectors = await readAttributions(options.attributions as string);
      const contributors =
        options.contributors !== undefined
          ? parseInteger(options.contributors as string, "--contributors", 1)
          : vectors[0].length;
      const rules = { contributors, generationCap: parseCap(options.cap as string) };
      const deployment = ctx.deployment();
      const localDir = ctx.ws.contributorDir(ctx.signer.address);
      const outcome = await reportUsage(deployment, ctx.signer, ctx.store, {
        roundId,
        vectors,
        rules,
        batchSize: parseInteger(options.batch as string, "--batch", 1),
        localDir,
      });
      const excludedCount = Object.values(outcome.excluded).reduce((a, b) => a + b, 0);
      say.say(
        `encrypted ${outcome.generations} generations in ${outcome.batches.length} batches (${outcome.uploadBytes} bytes uploaded); ` +
          `excluded ${excludedCount}: ${
            Object.entries(outcome.excluded)
              .filter(([, n]) => n > 0)
              .map(([reason, n]) => `${n} ${reason}`)
              .join(", ") || "none"
          }`,
      );
      for (const { generation, reason, details } of outcome.firstExclusions) {
        say.say(`  generation ${generation}: ${reason} (${details})`);
      }
      say.say(`committed the seal of report ${outcome.reportHash} (deposit ${outcome.deposit} wei)`);
      if (options.reveal !== true) {
        say.result(
          { address: ctx.signer.address, round: roundId, ...outcome },
          `reveal it with \`ciphershare operator reveal --round ${roundId}\` once the commit phase is over`,
        );
        return;
      }
      await untilRevealPhase(deployment, ctx.reader, roundId, options);
      const revealed = await revealContribution(deployment, ctx.signer, ctx.store, {
        roundId,
        storeUri: storeUri(ctx.ws),
        localDir,
      });
      say.result(
        { address: ctx.signer.address, round: roundId, ...outcome, ...revealed },
        `revealed and uploaded report ${revealed.ciphertextHash}`,
      );
    });

  withCommonOptions(
    operator
      .command("reveal")
      .description("In the round's reveal phase: reveal the committed usage report's hash and upload the report."),
    OPERATOR_ACCOUNT,
  )
    .requiredOption("--round <id>", "round id")
    .option("--advance-time", "dev chain only: move the clock past the commit deadline instead of waiting")
    .option("--timeout <seconds>", "how long to wait for the reveal phase", "3600")
    .action(async (options: Options) => {
      const ctx = roleContext(options);
      const roundId = parseBigInt(options.round as string, "--round");
      await untilRevealPhase(ctx.deployment(), ctx.reader, roundId, options);
      const revealed = await revealContribution(ctx.deployment(), ctx.signer, ctx.store, {
        roundId,
        storeUri: storeUri(ctx.ws),
        localDir: ctx.ws.contributorDir(ctx.signer.address),
      });
      reporter(options).result(
        { address: ctx.signer.address, round: roundId, ...revealed },
        `${revealed.revealed ? "revealed and uploaded" : "already revealed; uploaded"} report ${revealed.ciphertextHash}`,
      );
    });
}
