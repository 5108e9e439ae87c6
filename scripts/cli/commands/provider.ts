import type { Command } from "commander";
import { readFile } from "node:fs/promises";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { readTrainingFile } from "@ciphershare/protocol/training/data-files";
import { contributorAccount } from "@ciphershare/coprocessor/roles/workspace";
import { readTrainingProgram, submitTrainingData } from "@ciphershare/coprocessor/roles/training";
import { readRound } from "@ciphershare/coprocessor/chain/contracts";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { parseBigInt, parseInteger, reporter, roleContext, withCommonOptions } from "../roleContext";
import { revealKept, type Options } from "./contributor";

/**
 * A 2-D .npy file as a matrix; a 1-D file of labels becomes one column per class when `oneHot` classes are given
 * (integer labels 0 … classes−1), else one column. The reader is the web app's provider page's (`readTrainingFile`).
 */
export async function readNpyMatrix(path: string, flag: string, oneHot?: number): Promise<Matrix> {
  if (!path.endsWith(".npy")) throw new InvalidInputError(`${flag} must be a .npy file.`, { details: path });
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new InvalidInputError(`Cannot read ${flag}.`, { details: path, cause: error });
  }
  return readTrainingFile(path, bytes, flag, oneHot);
}

/** `ciphershare provider …`: a data provider of an encrypted-data training program (docs/training.md). */
export function register(program: Command): void {
  const provider = program
    .command("provider")
    .description("Data provider of a training program: encrypt the statistics of your rows, commit, reveal.");

  withCommonOptions(
    provider
      .command("submit")
      .description(
        "Check your rows against the program's terms, compute XᵀX and XᵀY (optionally with DP), encrypt them under the program key and commit them with your public row count.",
      )
      .option("--index <i>", "provider number: development account 4 + i", "0"),
  )
    .requiredOption("--round <id>", "round id (in its commit phase)")
    .requiredOption("--data <rows.npy>", "float array [n, d]: your rows")
    .requiredOption("--labels <y.npy>", "float array [n, c], or integer labels [n] (one-hot over the c outputs)")
    .option(
      "--dp-epsilon <e>",
      "(ε, 1e-5)-DP with the Gaussian mechanism (rows clipped to norm 2); the accounting is printed",
    )
    .option("--reveal", "then wait for the reveal phase, reveal and upload (as `contributor reveal`)")
    .option("--advance-time", "with --reveal, dev chain only: move the clock past the commit deadline")
    .option("--timeout <seconds>", "with --reveal: how long to wait for the reveal phase", "3600")
    .action(async (options: Options) => {
      const ctx = roleContext(options, contributorAccount(parseInteger(options.index as string, "--index")));
      const say = reporter(options);
      const roundId = parseBigInt(options.round as string, "--round");
      const deployment = ctx.deployment();
      const x = await readNpyMatrix(options.data as string, "--data");
      const { shape } = await readTrainingProgram(
        deployment,
        ctx.reader,
        ctx.store,
        (await readRound(deployment, ctx.reader, roundId)).programId,
      );
      const y = await readNpyMatrix(options.labels as string, "--labels", shape.outputs);
      let dpEpsilon: number | undefined;
      if (options.dpEpsilon !== undefined) {
        dpEpsilon = Number(options.dpEpsilon);
        if (!Number.isFinite(dpEpsilon) || dpEpsilon <= 0) {
          throw new InvalidInputError("--dp-epsilon must be a positive number.", {
            details: String(options.dpEpsilon),
          });
        }
      }
      const localDir = ctx.ws.contributorDir(ctx.signer.address);
      const submitted = await submitTrainingData(deployment, ctx.signer, ctx.store, {
        roundId,
        x,
        y,
        dpEpsilon,
        localDir,
        cacheDir: localDir,
      });
      if (submitted.privacy) say.say(submitted.privacy.description);
      say.say(
        `encrypted [XᵀX | XᵀY] of ${submitted.sampleCount} rows (${submitted.bytes} bytes); committed the seal of ${submitted.ciphertextHash}`,
      );
      const result = {
        address: ctx.signer.address,
        round: roundId,
        ciphertextHash: submitted.ciphertextHash,
        rows: submitted.sampleCount,
        bytes: submitted.bytes,
        privacy: submitted.privacy,
      };
      if (options.reveal !== true) {
        say.result(
          result,
          `reveal it with \`ciphershare contributor reveal --round ${roundId} --index ${String(options.index)}\``,
        );
        return;
      }
      const revealed = await revealKept(ctx, roundId, options);
      say.result({ ...result, ...revealed }, `revealed and uploaded ${revealed.ciphertextHash}`);
    });
}
