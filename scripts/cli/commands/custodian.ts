import type { Command } from "commander";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { existsSync } from "node:fs";
import type { Hex } from "@ciphershare/protocol/hex";
import {
  acceptProgram,
  generateProgramKeys,
  servedRounds,
  serveRound,
  type CustodianRoleOptions,
} from "@ciphershare/coprocessor/roles/custodian";
import {
  DEFAULT_HOME,
  openBlobStore,
  openWorkspace,
  readJsonFile,
  ROLE_ACCOUNT,
  writeJsonFile,
} from "@ciphershare/coprocessor/roles/workspace";
import { MNIST_CLASSES, MNIST_DIMENSION } from "@ciphershare/coprocessor/simulation/mnist";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import {
  parseBigInt,
  parseInteger,
  reporter,
  roleContext,
  withCommonOptions,
  type CommonOptions,
} from "../roleContext";

export const PASSPHRASE_ENV = "CIPHERSHARE_CUSTODIAN_PASSPHRASE";

function passphrase(): string {
  const value = process.env[PASSPHRASE_ENV];
  if (value === undefined || value.length < 8) {
    throw new InvalidInputError(`Set ${PASSPHRASE_ENV} to the keystore passphrase (at least 8 characters).`);
  }
  return value;
}

type Options = CommonOptions & { once?: boolean; interval: string };
type AcceptOptions = CommonOptions & { program: string; force?: boolean };

/** `ciphershare custodian …`: the key custodian. */
export function register(program: Command): void {
  const custodian = program
    .command("custodian")
    .description("Key custodian: keys, program acceptance, decryption of finalized outputs, settlement.");
  custodian
    .command("keygen")
    .description(`Generate the program's CKKS keys; the secret key is sealed with $${PASSPHRASE_ENV}.`)
    .option("--home <dir>", "workspace directory", DEFAULT_HOME)
    .option(
      "--dimension <d>",
      "rows of the program's d×c models (the keys cover their projection)",
      String(MNIST_DIMENSION),
    )
    .option("--classes <c>", "columns of the program's d×c models", String(MNIST_CLASSES))
    .option("--json", "print one JSON value as the last line of stdout")
    .action(async (options: { home: string; dimension: string; classes: string; json?: boolean }) => {
      const ws = openWorkspace(options.home);
      const keys = await generateProgramKeys(openBlobStore(ws), ws.keystoreFile, passphrase(), {
        dimension: parseInteger(options.dimension, "--dimension", 1),
        classes: parseInteger(options.classes, "--classes", 2),
      });
      writeJsonFile(ws.bundlePointerFile, { publicBundleHash: keys.publicBundleHash });
      reporter(options).result(
        keys,
        `public bundle ${keys.publicBundleHash} (${keys.bundleBytes} bytes; contributors download ${keys.contributorBundleBytes}) published; keystore ${ws.keystoreFile}`,
      );
    });

  withCommonOptions(
    custodian
      .command("accept")
      .description(
        "Print a program's terms and accept it on-chain if the custodian's policy allows them (minimum crowd ≥ 3, this custodian's key, exact Shapley).",
      )
      .requiredOption("--program <id>", "program id")
      .option("--force", "accept despite the policy's refusals (they are printed)"),
    ROLE_ACCOUNT.custodian,
  ).action(async (options: AcceptOptions) => {
    const ctx = roleContext(options);
    const say = reporter(options);
    const ownBundleHash = existsSync(ctx.ws.bundlePointerFile)
      ? readJsonFile<{ publicBundleHash: Hex }>(ctx.ws.bundlePointerFile, "public bundle", "").publicBundleHash
      : undefined;
    const programId = parseBigInt(options.program, "--program");
    const { program, outcome, overruled } = await acceptProgram(ctx.deployment(), ctx.signer, programId, {
      ownBundleHash,
      force: options.force,
    });
    say.say(
      `program ${programId}: network ${program.network}, coprocessor ${program.coprocessor}, key ${program.publicKeyHash}`,
    );
    say.say(
      `  terms: min ${program.minContributors} contributors, cap ${program.maxCommitments} commitments, recovery ${program.recoveryPeriod} s, deposit ${program.commitDeposit} wei, valuation method ${program.valuationMethod}`,
    );
    for (const refusal of overruled) say.say(`  accepted despite the policy (--force): ${refusal}`);
    say.result(
      {
        programId,
        outcome,
        overruled,
        terms: {
          minContributors: program.minContributors,
          maxCommitments: program.maxCommitments,
          recoveryPeriod: program.recoveryPeriod,
          commitDeposit: program.commitDeposit,
          valuationMethod: program.valuationMethod,
        },
      },
      `program ${programId}: ${outcome}`,
    );
  });

  withCommonOptions(
    custodian
      .command("run")
      .description(
        "Serve the accepted programs' finalized rounds: decrypt and release the outputs (global model, φ), anchor the release, settle funded pools in batches.",
      )
      .option("--once", "serve what is pending, then exit")
      .option("--interval <ms>", "polling interval while watching", "1000"),
    ROLE_ACCOUNT.custodian,
  ).action(async (options: Options) => {
    const secret = passphrase();
    const ctx = roleContext(options);
    const say = reporter(options);
    const state = StateStore.open(ctx.ws.custodianDb);
    const fhevm = await ctx.fhevm();
    const role: CustodianRoleOptions = {
      deployment: ctx.deployment(),
      signer: ctx.signer,
      state,
      store: ctx.store,
      fhevm,
      keystorePath: ctx.ws.keystoreFile,
      passphrase: secret,
      log: (line) => say.say(`[custodian] ${line}`),
    };
    let stopping = false;
    process.on("SIGTERM", () => (stopping = true));
    process.on("SIGINT", () => (stopping = true));
    const settled = new Set<number>();
    try {
      for (;;) {
        for (const roundId of await servedRounds(role)) {
          if ((await serveRound(role, roundId)) === "settled") settled.add(Number(roundId));
        }
        if (options.once || stopping) break;
        await new Promise((resolve) => setTimeout(resolve, parseInteger(options.interval, "--interval", 10)));
        if (stopping) break;
      }
      say.result({ settled: [...settled] });
    } finally {
      fhevm.destroy();
      state.close();
    }
  });
}
