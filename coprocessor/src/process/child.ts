// Child processes, one way for every caller: the local node, the CLI's role processes (demo, app, end-to-end tests),
// the frontend tests' servers. Output is read line by line; a stop is SIGTERM, then SIGKILL after a grace period.
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";

export type Stream = "stdout" | "stderr";

export interface ChildOptions {
  readonly cwd?: string;
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Every line the child prints, as it prints it. */
  readonly onLine?: (line: string, stream: Stream) => void;
}

export interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The last stdout line parsed as JSON (every `--json` command ends with one), or undefined. */
  readonly json: unknown;
}

export interface RunningChild {
  readonly child: ChildProcess;
  /** Resolves once the child exited (with its code, or the signal that ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Calls `onLine` for every complete line of a stream, and for the unterminated rest when it ends. */
export function onLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
  stream.on("end", () => {
    if (pending.length > 0) onLine(pending);
  });
}

/** Starts a long-running child whose output goes, line by line, to `onLine`. */
export function startChild(command: string, args: readonly string[], options: ChildOptions = {}): RunningChild {
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  onLines(child.stdout, (line) => options.onLine?.(line, "stdout"));
  onLines(child.stderr, (line) => options.onLine?.(line, "stderr"));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  return { child, exited, stop: (graceMs) => stopChild(child, graceMs) };
}

/** Runs a child to its end and collects its output. */
export async function runChild(
  command: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<ChildRun> {
  const out: Record<Stream, string[]> = { stdout: [], stderr: [] };
  const running = startChild(command, args, {
    ...options,
    onLine: (line, stream) => {
      out[stream].push(line);
      options.onLine?.(line, stream);
    },
  });
  const { code, signal } = await running.exited;
  const stdout = out.stdout.map((line) => `${line}\n`).join("");
  return { code, signal, stdout, stderr: out.stderr.map((line) => `${line}\n`).join(""), json: lastJsonLine(stdout) };
}

/**
 * SIGTERM, then SIGKILL after `graceMs` (default 5 s; `Infinity` never kills: a role finishing a journaled step may
 * take its time); resolves once the child has exited.
 */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = Number.isFinite(graceMs) ? setTimeout(() => child.kill("SIGKILL"), graceMs) : undefined;
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** The last non-empty line of `stdout` as JSON, or undefined when it is not JSON. */
export function lastJsonLine(stdout: string): unknown {
  const last = stdout.trim().split("\n").pop() ?? "";
  if (last === "") return undefined;
  try {
    return JSON.parse(last);
  } catch {
    return undefined;
  }
}
