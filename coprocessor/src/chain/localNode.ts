import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";

import { onLines, stopChild } from "../process/child";
import { LocalNodeError } from "./errors";
import { createPublicClient, http, type Address, type PublicClient } from "viem";
import { readRelayerMetadata, type RelayerMetadata } from "./relayerMetadata";

/** Loopback only: the local chain must never be reachable from another machine. */
export const LOCAL_NODE_HOST = "127.0.0.1";

export interface LocalNodeOptions {
  /** TCP port on 127.0.0.1; 0 (the default) lets the OS pick a free one, read back from the node's banner. */
  port?: number;
  /** Directory holding `hardhat.config.ts`; defaults to this repository's root. */
  projectRoot?: string;
  /** How long to wait for the node to answer JSON-RPC with the fhEVM host contracts installed. */
  startupTimeoutMs?: number;
  /** Every line the node prints (it logs each RPC method); by default lines are only kept in a tail. */
  onOutput?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface LocalNode {
  /** `http://127.0.0.1:<port>` — hand it to other processes (env var, CLI flag) so they share one chain. */
  readonly rpcUrl: string;
  readonly chainId: number;
  /** Process id of the `hardhat node` child. */
  readonly pid: number;
  /** Addresses of the fhEVM mock host contracts as reported by `fhevm_relayer_metadata`. */
  readonly fhevm: RelayerMetadata;
  /** The last lines the node printed on stdout and stderr, for error messages and debugging. */
  outputTail(): string;
  /** Terminates the node (SIGTERM, then SIGKILL after 5 s) and resolves once the process has exited. */
  stop(): Promise<void>;
}

const DEFAULT_STARTUP_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 5_000;
const TAIL_LINES = 40;
const BANNER = /JSON-RPC server at http:\/\/127\.0\.0\.1:(\d+)\//;

/**
 * The child runs the Hardhat CLI in-process after arming a watchdog on its stdin: the parent holds the
 * other end of that pipe, so when the parent exits for any reason, even SIGKILL, the pipe closes and
 * the node exits too. No orphan chain survives a crashed test or demo.
 */
const CHILD_BOOTSTRAP = `
const [cliPath, port, host] = process.argv.slice(1);
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
process.argv = [process.argv[0], cliPath, "node", "--hostname", host, "--port", port];
require(cliPath);
`;

/**
 * Starts `hardhat node` with this repository's config (fhEVM mock plugin) on 127.0.0.1 and resolves once
 * it answers JSON-RPC and the fhEVM host contracts (ACL, executor, input and KMS verifiers) have code.
 * The plugin installs them before the server starts listening; the check makes that explicit.
 */
export async function startLocalNode(options: LocalNodeOptions = {}): Promise<LocalNode> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new LocalNodeError("Port must be an integer between 0 and 65535.", { details: `port: ${port}` });
  }
  if (port !== 0) await assertPortFree(port);

  const projectRoot = options.projectRoot ?? findProjectRoot(__dirname);
  const cliPath = resolveHardhatCli(projectRoot);
  const timeoutMs = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;

  const child = spawn(process.execPath, ["-e", CHILD_BOOTSTRAP, cliPath, String(port), LOCAL_NODE_HOST], {
    cwd: projectRoot,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
  });
  const tail = new OutputTail(TAIL_LINES);
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  // Killing the parent normally (process.exit, end of mocha) must not leave the node behind either.
  const killOnParentExit = () => child.kill("SIGKILL");
  process.once("exit", killOnParentExit);

  const banner = new Promise<number>((resolveBanner) => {
    onLines(child.stdout, (line) => {
      tail.push(line);
      options.onOutput?.(line, "stdout");
      const match = BANNER.exec(line);
      if (match) resolveBanner(Number(match[1]));
    });
    onLines(child.stderr, (line) => {
      tail.push(`[stderr] ${line}`);
      options.onOutput?.(line, "stderr");
    });
  });

  const stop = async (): Promise<void> => {
    process.removeListener("exit", killOnParentExit);
    await stopChild(child, STOP_GRACE_MS);
  };

  try {
    const actualPort = await raceStartup(banner, exited, timeoutMs, tail, port);
    const rpcUrl = `http://${LOCAL_NODE_HOST}:${actualPort}`;
    const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) });
    const chainId = await client.getChainId();
    const fhevm = await readRelayerMetadata(client);
    await assertHostContractsInstalled(client, fhevm);
    return {
      rpcUrl,
      chainId,
      pid: child.pid ?? -1,
      fhevm,
      outputTail: () => tail.toString(),
      stop,
    };
  } catch (error) {
    await stop();
    if (error instanceof LocalNodeError) throw error;
    throw new LocalNodeError("The local fhEVM node started but did not answer as expected.", {
      details: `node output (last lines):\n${tail.toString()}`,
      cause: error,
    });
  }
}

async function raceStartup(
  banner: Promise<number>,
  exited: Promise<number | null>,
  timeoutMs: number,
  tail: OutputTail,
  requestedPort: number,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LocalNodeError(`The local fhEVM node did not start within ${timeoutMs} ms.`, {
            details: `node output (last lines):\n${tail.toString()}`,
          }),
        ),
      timeoutMs,
    );
  });
  const died = exited.then((code): never => {
    const portHint = /EADDRINUSE/.test(tail.toString()) ? ` Port ${requestedPort} is already in use.` : "";
    throw new LocalNodeError(`The local fhEVM node exited with code ${code} before it was ready.${portHint}`, {
      details: `node output (last lines):\n${tail.toString()}`,
    });
  });
  try {
    return await Promise.race([banner, died, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function assertHostContractsInstalled(client: PublicClient, fhevm: RelayerMetadata): Promise<void> {
  const hostContracts = {
    ACL: fhevm.ACLAddress,
    FHEVMExecutor: fhevm.CoprocessorAddress,
    InputVerifier: fhevm.InputVerifierAddress,
    KMSVerifier: fhevm.KMSVerifierAddress,
  };
  for (const [name, address] of Object.entries(hostContracts)) {
    const code = await client.getCode({ address: address as Address });
    if (code === undefined || code === "0x") {
      throw new LocalNodeError(`The fhEVM host contract ${name} is not installed on the local node.`, {
        details: `${name} address: ${address}`,
      });
    }
  }
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new LocalNodeError(`Port ${port} on ${LOCAL_NODE_HOST} is already in use.`, {
          details: `Pick another port, or pass port 0 to let the system choose. (${error.code})`,
          cause: error,
        }),
      );
    });
    probe.listen(port, LOCAL_NODE_HOST, () => probe.close(() => resolvePort()));
  });
}

/** Walks up from `start` to the directory holding hardhat.config.ts. */
export function findProjectRoot(start: string): string {
  let current = resolve(start);
  for (;;) {
    if (existsSync(join(current, "hardhat.config.ts"))) return current;
    const parent = dirname(current);
    if (parent === current) {
      throw new LocalNodeError("Could not find hardhat.config.ts above this directory.", { details: start });
    }
    current = parent;
  }
}

function resolveHardhatCli(projectRoot: string): string {
  try {
    return require.resolve("hardhat/internal/cli/cli.js", { paths: [projectRoot] });
  } catch (error) {
    throw new LocalNodeError("Hardhat is not installed in the project.", { details: projectRoot, cause: error });
  }
}

class OutputTail {
  readonly #lines: string[] = [];
  constructor(readonly capacity: number) {}
  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.capacity) this.#lines.shift();
  }
  toString(): string {
    return this.#lines.join("\n");
  }
}
