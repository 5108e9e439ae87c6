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
import { roleAccount } from "@ciphershare/coprocessor/chain/clients";
import { committeeAccept, committeeKeygen, committeeRun, memberAccount, parseMembers } from "./committee";
import {
  parseBigInt,
  parseInteger,
  reporter,
  roleContext,
  withCommonOptions,
  type CommonOptions,
} from "../roleContext";

type KeygenOptions = {
  home: string;
  dimension: string;
  classes: string;
  committee?: boolean;
  members?: string;
  threshold: string;
  json?: boolean;
};

export const PASSPHRASE_ENV = "CIPHERSHARE_CUSTODIAN_PASSPHRASE";

function passphrase(): string {
  const value = process.env[PASSPHRASE_ENV];
  if (value === undefined || value.length < 8) {
    throw new InvalidInputError(`Set ${PASSPHRASE_ENV} to the keystore passphrase (at least 8 characters).`);
  }
  return value;
}

type Options = CommonOptions & { once?: boolean; interval: string; member?: string };
type AcceptOptions = CommonOptions & { program: string; force?: boolean; member?: string };

/** `--member K`, and the account it signs with: `--account`/`--private-key` when given, else member K's. */
function memberOf(options: CommonOptions & { member?: string }): { member: number; account?: number } | undefined {
  if (options.member === undefined) return undefined;
  const member = parseInteger(options.member, "--member", 1);
  const explicit = options.privateKey !== undefined || options.account !== String(ROLE_ACCOUNT.custodian);
  return { member, account: explicit ? undefined : memberAccount(member) };
}

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
    .option(
      "--committee",
      "dealer's ceremony for a t-of-n committee: seal one Shamir share per member (CIPHERSHARE_MEMBER_<k>_PASSPHRASE), wipe the key",
    )
    .option("--members <addresses>", "committee members, comma-separated (default: development accounts 17, 18, 19)")
    .option("--threshold <t>", "members needed to decrypt", "2")
    .option("--json", "print one JSON value as the last line of stdout")
    .action(async (options: KeygenOptions) => {
      const ws = openWorkspace(options.home);
      const model = {
        dimension: parseInteger(options.dimension, "--dimension", 1),
        classes: parseInteger(options.classes, "--classes", 2),
      };
      if (options.committee) {
        const members = parseMembers(options.members, (k) => roleAccount(memberAccount(k)).address);
        const setup = await committeeKeygen(
          ws,
          members,
          parseInteger(options.threshold, "--threshold", 1),
          model,
          PASSPHRASE_ENV,
        );
        reporter(options).result(
          setup,
          `public bundle ${setup.publicBundleHash} (${setup.bundleBytes} bytes) published; ${setup.threshold}-of-${members.length} shares sealed to each member's keystore, key wiped`,
        );
        return;
      }
      const keys = await generateProgramKeys(openBlobStore(ws), ws.keystoreFile, passphrase(), model);
      writeJsonFile(ws.bundlePointerFile, { publicBundleHash: keys.publicBundleHash });
      reporter(options).result(
        keys,
        `public bundle ${keys.publicBundleHash} (${keys.bundleBytes} bytes) published; keystore ${ws.keystoreFile}`,
      );
    });

  withCommonOptions(
    custodian
      .command("accept")
      .description(
        "Print a program's terms and accept it on-chain if the custodian's policy allows them (minimum crowd ≥ 3, this custodian's key, exact Shapley).",
      )
      .requiredOption("--program <id>", "program id")
      .option("--member <k>", "accept as committee member k, with its own share (committee programs)")
      .option("--force", "accept despite the policy's refusals (they are printed)"),
    ROLE_ACCOUNT.custodian,
  ).action(async (options: AcceptOptions) => {
    const asMember = memberOf(options);
    const ctx = roleContext(options, asMember?.account);
    if (asMember !== undefined) {
      const programId = parseBigInt(options.program, "--program");
      const { outcome, overruled } = await committeeAccept(ctx, asMember.member, programId, options.force);
      const say = reporter(options);
      for (const refusal of overruled) say.say(`  accepted despite the policy (--force): ${refusal}`);
      say.result(
        { programId, member: asMember.member, outcome, overruled },
        `program ${programId}: member ${asMember.member} ${outcome}`,
      );
      return;
    }
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
      .option("--interval <ms>", "polling interval while watching", "1000")
      .option("--member <k>", "serve committee programs as member k: partial decryptions only, with its own share"),
    ROLE_ACCOUNT.custodian,
  ).action(async (options: Options) => {
    const asMember = memberOf(options);
    if (asMember !== undefined) {
      await committeeRun(roleContext(options, asMember.account), asMember.member, options, PASSPHRASE_ENV);
      return;
    }
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
