// Helpers of the end-to-end tests: the embedded chain and blob store in the test process, every role as a
// `ciphershare` child process in a temporary workspace.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedNetwork, type EmbeddedNetwork } from "@ciphershare/coprocessor/roles/embedded-network";
import {
  ciphershareJson,
  PROJECT_ROOT,
  roleEnvironment,
  runCiphershare,
  type CliRun,
} from "@ciphershare/scripts/lib/cli-process";

export const ROOT = PROJECT_ROOT;
export const PASSPHRASE = "test custodian passphrase";
/** The test contributors' keystore passphrase (their sealed payout keys). */
export const CONTRIBUTOR_PASSPHRASE = "test contributor passphrase";

export type RunResult = CliRun;

/**
 * Runs `ciphershare <args>` (or another script) as a child process; `custodian …` commands get the test custodian's
 * passphrase, `contributor …` commands the contributors', no other role gets either.
 */
export function run(args: string[], env: Record<string, string> = {}, script?: string): Promise<RunResult> {
  return runCiphershare(args, {
    env: { ...roleEnvironment(args, PASSPHRASE, CONTRIBUTOR_PASSPHRASE), ...env },
    script,
  });
}

/** `ciphershare … --home <home> --json` that must succeed; returns its JSON result. */
export function cli<T = unknown>(home: string, args: string[]): Promise<T> {
  return ciphershareJson<T>(home, args, { env: roleEnvironment(args, PASSPHRASE, CONTRIBUTOR_PASSPHRASE) });
}

export type TestNetwork = EmbeddedNetwork & { readonly home: string };

/** The embedded network in a fresh temporary workspace. */
export async function startTestNetwork(prefix: string): Promise<TestNetwork> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { ...(await startEmbeddedNetwork(home)), home };
}
