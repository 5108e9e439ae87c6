import type { Command } from "commander";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import {
  generateProgramKeys,
  servedRounds,
  serveRound,
  type CustodianRoleOptions,
} from "@ciphershare/coprocessor/roles/custodian";
import {
  DEFAULT_HOME,
  openBlobStore,
  openWorkspace,
  ROLE_ACCOUNT,
  writeJsonFile,
} from "@ciphershare/coprocessor/roles/workspace";
import { MNIST_CLASSES, MNIST_DIMENSION } from "@ciphershare/coprocessor/simulation/mnist";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import { parseInteger, reporter, roleContext, withCommonOptions, type CommonOptions } from "../roleContext";

export const PASSPHRASE_ENV = "CIPHERSHARE_CUSTODIAN_PASSPHRASE";

function passphrase(): string {
  const value = process.env[PASSPHRASE_ENV];
  if (value === undefined || value.length < 8) {
    throw new InvalidInputError(`Set ${PASSPHRASE_ENV} to the keystore passphrase (at least 8 characters).`);
  }
  return value;
}

type Options = CommonOptions & { once?: boolean; interval: string };

/** `ciphershare custodian …`: the key custodian. */
export function register(program: Command): void {
  const custodian = program
    .command("custodian")
    .description("Key custodian: keys, decryption of published outputs, settlement.");
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
        `public bundle ${keys.publicBundleHash} (${keys.bundleBytes} bytes) published; keystore ${ws.keystoreFile}`,
      );
    });

  withCommonOptions(
    custodian
      .command("run")
      .description("Release published rounds' outputs (global model, φ) and settle finalized, funded rounds.")
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
          if (settled.has(Number(roundId))) continue;
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
