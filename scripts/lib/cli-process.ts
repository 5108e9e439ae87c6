import { spawn } from "node:child_process";
import { join } from "node:path";
import { findProjectRoot } from "@ciphershare/coprocessor/chain/localNode";

export const PROJECT_ROOT = findProjectRoot(__dirname);
export const CLI_SCRIPT = join(PROJECT_ROOT, "bin", "ciphershare.js");

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The last stdout line parsed as JSON (every `--json` command ends with one), or undefined. */
  readonly json: unknown;
}

/**
 * Runs `ciphershare <args>` as its own process, as a separate role would run in production, and collects
 * its output. The demo and the end-to-end tests both drive the roles through this.
 */
export function runCiphershare(
  args: readonly string[],
  options: { env?: Record<string, string>; script?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.script ?? CLI_SCRIPT, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, json: lastJsonLine(stdout) }));
  });
}

function lastJsonLine(stdout: string): unknown {
  const last = stdout.trim().split("\n").pop() ?? "";
  if (last === "") return undefined;
  try {
    return JSON.parse(last);
  } catch {
    return undefined;
  }
}
