// The `ciphershare` CLI as a child process, as a separate role runs in production: one command to its end (its
// `--json` result), or a long-running role (`coprocessor run`, `custodian run`). The demo, `npm run app` and the
// end-to-end tests drive every role through this.
import { join } from "node:path";
import { findProjectRoot } from "@ciphershare/coprocessor/chain/localNode";
import { CONTRIBUTOR_PASSPHRASE_ENV } from "@ciphershare/coprocessor/roles/anonymous-payouts";
import {
  runChild,
  startChild,
  type ChildRun,
  type RunningChild,
  type Stream,
} from "@ciphershare/coprocessor/process/child";

export const PROJECT_ROOT = findProjectRoot(__dirname);
export const CLI_SCRIPT = join(PROJECT_ROOT, "bin", "ciphershare.js");

export type CliRun = ChildRun;

/** The variable the custodian's keystore passphrase travels in, to the custodian's own process only. */
export const CUSTODIAN_PASSPHRASE_ENV = "CIPHERSHARE_CUSTODIAN_PASSPHRASE";

/**
 * The environment additions of one `ciphershare <args>` process: the custodian's passphrase for `custodian …`
 * commands, and for every other role the variable removed (even when this process has it), so no secret reaches the
 * coprocessor, a contributor, the network or the auditor. Likewise the contributors' passphrase
 * (`contributorPassphrase`, else this process's own variable) reaches `contributor …` commands only.
 */
export function roleEnvironment(
  args: readonly string[],
  passphrase: string,
  contributorPassphrase = process.env[CONTRIBUTOR_PASSPHRASE_ENV],
): Record<string, string | undefined> {
  return {
    [CUSTODIAN_PASSPHRASE_ENV]: isCustodianCommand(args) ? passphrase : undefined,
    [CONTRIBUTOR_PASSPHRASE_ENV]: args[0] === "contributor" ? contributorPassphrase : undefined,
  };
}

/**
 * The commands that open the custodian's keystore: `custodian …`, a usage period's release (`usage release`) and a
 * training round's release (`training release`).
 */
function isCustodianCommand(args: readonly string[]): boolean {
  return (
    args[0] === "custodian" ||
    (args[0] === "usage" && args[1] === "release") ||
    (args[0] === "training" && args[1] === "release")
  );
}

export interface CliOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Another script to run instead of the CLI (the demo through tsx). */
  readonly script?: string;
}

/** Runs `ciphershare <args>` (or `script <args>`) to its end and collects its output. */
export function runCiphershare(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  return runChild(process.execPath, [options.script ?? CLI_SCRIPT, ...args], { cwd: PROJECT_ROOT, env: options.env });
}

/**
 * `ciphershare <args> --home <home> --json`; its JSON result. Rejects naming the command and its stderr when it
 * fails, unless `allowFailure` (the auditor exits 1 with its verdict when a check fails).
 */
export async function ciphershareJson<T = unknown>(
  home: string,
  args: readonly string[],
  options: CliOptions & { allowFailure?: boolean } = {},
): Promise<T> {
  const run = await runCiphershare([...args, "--home", home, "--json"], options);
  if (run.code !== 0 && !(options.allowFailure && run.code === 1)) {
    const why = (run.stderr.trim() || run.stdout.trim()).slice(-8000);
    throw new Error(`ciphershare ${args.join(" ")} failed (exit ${run.code ?? run.signal}): ${why}`);
  }
  return run.json as T;
}

/** Starts a long-running role (`coprocessor run`, `custodian run`) in a workspace; its lines go to `onLine`. */
export function startCiphershareRole(
  home: string,
  args: readonly string[],
  options: CliOptions & { onLine?: (line: string, stream: Stream) => void } = {},
): RunningChild {
  return startChild(process.execPath, [CLI_SCRIPT, ...args, "--home", home], {
    cwd: PROJECT_ROOT,
    env: options.env,
    onLine: options.onLine,
  });
}
