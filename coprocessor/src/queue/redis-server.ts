// A throwaway Redis for tests, benchmarks and the demo: Debian's redis-server (installed by scripts/setup/redis.sh)
// on a free loopback port, in memory only, stopped with the process that started it.
import { existsSync } from "node:fs";
import { startChild, type RunningChild } from "../process/child";
import { freeLoopbackPort } from "../process/ports";
import { QueueError } from "./errors";

export interface RunningRedis {
  /** redis://127.0.0.1:PORT, what `--queue` takes. */
  readonly url: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const CANDIDATES = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];

/** Starts redis-server on 127.0.0.1 with persistence off; resolves once it accepts connections. */
export async function startRedisServer(options: { port?: number; timeoutMs?: number } = {}): Promise<RunningRedis> {
  const binary = CANDIDATES.find((path) => existsSync(path));
  if (!binary) {
    throw new QueueError("redis-server is not installed.", {
      details: "run `bash scripts/setup/redis.sh` (installs Debian's redis-server)",
    });
  }
  const port = options.port ?? (await freeLoopbackPort());
  const lines: string[] = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const child: RunningChild = startChild(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
    {
      onLine: (line) => {
        lines.push(line);
        if (lines.length > 40) lines.shift();
        if (/Ready to accept connections/.test(line)) onReady();
      },
    },
  );
  const timeoutMs = options.timeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      child.exited.then(({ code, signal }) => {
        throw new QueueError("redis-server exited at startup.", {
          details: `code ${code}, signal ${signal}: ${lines.slice(-5).join(" | ")}`,
        });
      }),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new QueueError("redis-server did not start in time.", { details: `${timeoutMs} ms on port ${port}` }),
            ),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    await child.stop(1_000);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.child.pid, stop: () => child.stop(2_000) };
}
