import type { Command } from "commander";
import { usageCustodianPass } from "@ciphershare/coprocessor/roles/usage-custodian-daemon";
import type { UsagePass } from "@ciphershare/coprocessor/roles/usage-daemon";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { existsSync } from "node:fs";
import type { Hex } from "@ciphershare/protocol/hex";
import { CONTRIBUTION_FETCH_TIMEOUT_MS } from "@ciphershare/coprocessor/roles/coprocessor";
import {
  acceptProgram,
  custodianPass,
  generateProgramKeys,
  type CustodianPass,
  type CustodianRoleOptions,
} from "@ciphershare/coprocessor/roles/custodian";
import { failureReason, FIRST_RETRY_DELAY_MS, WorkIsolation } from "@ciphershare/coprocessor/roles/isolation";
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
  parseProjectionKeyProfile,
  type ProjectionKeyProfile,
} from "@ciphershare/coprocessor/shapley/encrypted/key-profile";
import { CUSTODIAN_PASSPHRASE_ENV } from "../../lib/cli-process";
import { roleAccount } from "@ciphershare/coprocessor/chain/clients";
import { committeeAccept, committeeKeygen, committeeRun, memberAccount, parseMembers } from "./committee";
import {
  parseBigInt,
  parseInteger,
  parsePrograms,
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
  training?: boolean;
  members?: string;
  threshold: string;
  projections: string;
  json?: boolean;
};

export const PASSPHRASE_ENV = CUSTODIAN_PASSPHRASE_ENV;

export function passphrase(): string {
  const value = process.env[PASSPHRASE_ENV];
  if (value === undefined || value.length < 8) {
    throw new InvalidInputError(`Set ${PASSPHRASE_ENV} to the keystore passphrase (at least 8 characters).`);
  }
  return value;
}

type Options = CommonOptions & {
  once?: boolean;
  interval: string;
  programs?: string;
  fetchTimeout: string;
  retryDelay: string;
  workers: string;
  member?: string;
};
type AcceptOptions = CommonOptions & { program: string; force?: boolean; member?: string };

/** `--member K`, and the account it signs with: `--account`/`--private-key` when given, else member K's. */
function memberOf(options: CommonOptions & { member?: string }): { member: number; account?: number } | undefined {
  if (options.member === undefined) return undefined;
  const member = parseInteger(options.member, "--member", 1);
  const explicit = options.privateKey !== undefined || options.account !== String(ROLE_ACCOUNT.custodian);
  return { member, account: explicit ? undefined : memberAccount(member) };
}

/** The key profile `custodian keygen` recorded beside the bundle hash ("computed" for older workspaces). */
function keyProfileOf(pointerFile: string): ProjectionKeyProfile {
  if (!existsSync(pointerFile)) return "computed";
  const { projections } = readJsonFile<{ projections?: string }>(pointerFile, "public bundle", "");
  return projections === undefined ? "computed" : parseProjectionKeyProfile(projections);
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
    .option("--training", "a training program's key: --dimension is d (features), --classes is c (outputs)")
    .option(
      "--committee",
      "dealer's ceremony for a t-of-n committee: seal one Shamir share per member (CIPHERSHARE_MEMBER_<k>_PASSPHRASE), wipe the key",
    )
    .option("--members <addresses>", "committee members, comma-separated (default: development accounts 17, 18, 19)")
    .option("--threshold <t>", "members needed to decrypt", "2")
    .option(
      "--projections <profile>",
      "valuation key set: computed (a Galois key per projection step) or submitted (13 powers of two and the conjugation, for contributors who submit their projections; a projection then composes its rotations)",
      "computed",
    )
    .option("--json", "print one JSON value as the last line of stdout")
    .action(async (options: KeygenOptions) => {
      const ws = openWorkspace(options.home);
      const projections = parseProjectionKeyProfile(options.projections);
      const model = {
        dimension: parseInteger(options.dimension, "--dimension", 1),
        classes: parseInteger(options.classes, "--classes", 2),
        training: options.training === true,
        projections,
      };
      if (options.committee && projections !== "computed") {
        // The committee's release path sizes φ's flooding for the "computed" key set only.
        throw new InvalidInputError("--projections submitted is not available with --committee yet.", {
          details: `--projections ${projections}`,
        });
      }
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
      // The key profile travels with the pointer: `custodian run` floods φ for the rotations this key set implies.
      writeJsonFile(ws.bundlePointerFile, { publicBundleHash: keys.publicBundleHash, projections });
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
        "Serve the accepted programs' rounds: recompute each publication in its dispute window and challenge a mismatch; once finalized, decrypt only recomputed outputs (global model, φ), anchor the release, settle funded pools in batches.",
      )
      .option("--once", "serve what is pending, then exit")
      .option("--interval <ms>", "polling interval while watching", "1000")
      .option("--programs <ids>", "serve only these accepted programs (comma-separated; default: every one)")
      .option("--fetch-timeout <ms>", "deadline of one input's download", String(CONTRIBUTION_FETCH_TIMEOUT_MS))
      .option(
        "--retry-delay <ms>",
        "delay before a failed round is tried again (doubles)",
        String(FIRST_RETRY_DELAY_MS),
      )
      .option("--workers <n>", "worker threads for the Shapley recomputation", "2")
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
      storeForUri: ctx.storeForUri,
      fetchTimeoutMs: parseInteger(options.fetchTimeout, "--fetch-timeout", 1),
      workers: parseInteger(options.workers, "--workers"),
      programs: parsePrograms(options.programs),
      projections: keyProfileOf(ctx.ws.bundlePointerFile),
    };
    const isolation = new WorkIsolation(state, "custodian", {
      firstRetryDelayMs: parseInteger(options.retryDelay, "--retry-delay"),
    });
    let stopping = false;
    process.on("SIGTERM", () => (stopping = true));
    process.on("SIGINT", () => (stopping = true));
    const outcomes = { settled: new Set<number>(), challenged: new Set<number>(), refused: new Set<number>() };
    const failed = new Map<number, { round: number; reason: string }>();
    try {
      for (;;) {
        let pass: CustodianPass | undefined;
        try {
          pass = await custodianPass(role, isolation);
        } catch (error) {
          // The chain could not be read at all: nothing was done this pass; try again at the next.
          if (options.once) throw error;
          say.say(`[custodian] could not look for work: ${failureReason(error)}`);
        }
        for (const { round, outcome } of pass?.outcomes ?? []) {
          failed.delete(Number(round));
          if (outcome === "settled" || outcome === "challenged" || outcome === "refused") {
            outcomes[outcome].add(Number(round));
          }
        }
        for (const { round, reason } of pass?.failed ?? []) failed.set(Number(round), { round: Number(round), reason });
        // Usage programs' periods (docs/usage.md): release the totals once, settle the pool to the artists when funded.
        let usage: UsagePass | undefined;
        try {
          usage = await usageCustodianPass(role, isolation);
        } catch (error) {
          if (options.once) throw error;
          say.say(`[custodian] could not look for usage periods: ${failureReason(error)}`);
        }
        for (const { round, outcome } of usage?.done ?? []) {
          failed.delete(Number(round));
          if (outcome === "settled" || outcome === "challenged") outcomes[outcome].add(Number(round));
        }
        for (const { round, reason } of usage?.failed ?? [])
          failed.set(Number(round), { round: Number(round), reason });
        if (options.once || stopping) break;
        await new Promise((resolve) => setTimeout(resolve, parseInteger(options.interval, "--interval", 10)));
        if (stopping) break;
      }
      say.result({
        settled: [...outcomes.settled],
        challenged: [...outcomes.challenged],
        refused: [...outcomes.refused],
        failed: [...failed.values()],
      });
    } finally {
      fhevm.destroy();
      state.close();
    }
  });
}
