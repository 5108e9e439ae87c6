// The services behind the web app on the embedded default, started the way an operator would: the local fhEVM
// chain and the blob server (in this process, like `ciphershare node start`), then `ciphershare network deploy`,
// `custodian keygen`, `network create-program`, `network open-round`, and the long-running `coprocessor run` and
// `custodian run` as child processes. `npm run app` and the browser test of a real round both use it.
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { findProjectRoot, startLocalNode } from "../../coprocessor/src/chain/localNode";
import { removeNodeInfo, writeNodeInfo } from "../../coprocessor/src/chain/nodeInfo";
import type { Deployment } from "../../coprocessor/src/chain/ciphershare";
import { openWorkspace, readDeployment, writeJsonFile, type Workspace } from "../../coprocessor/src/roles/workspace";
import { LocalDirectoryBlobStore } from "../../coprocessor/src/storage/local-directory";
import { startBlobServer } from "../../coprocessor/src/storage/http-server";

export const ROOT = findProjectRoot(__dirname);
const CLI = join(ROOT, "bin", "ciphershare.js");
/** The local custodian's keystore passphrase (development only: the keystore lives in the app's workspace). */
export const APP_CUSTODIAN_PASSPHRASE = "ciphershare local app custodian";

export interface AppServiceOptions {
  readonly home: string;
  /** Origins the blob server lets upload from a browser (the web app's). */
  readonly allowedOrigins: readonly string[];
  /** Open round 1 with public scores (`network open-round --public-scores`). */
  readonly publicScores: boolean;
  /** Seconds contributors have to commit to round 1. */
  readonly commitPeriod: number;
  readonly log?: (line: string) => void;
}

export interface AppServices {
  readonly ws: Workspace;
  readonly rpcUrl: string;
  readonly blobUrl: string;
  readonly deployment: Deployment;
  readonly programId: number;
  readonly roundId: number;
  readonly publicBundleHash: string;
  /** `{ contracts: { Name: address } }` for the web app's runtime configuration. */
  readonly webDeploymentFile: string;
  /** Runs one `ciphershare` command in this workspace; its --json result. */
  cli(args: readonly string[]): Promise<unknown>;
  stop(): Promise<void>;
}

export function ciphershareEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CIPHERSHARE_CUSTODIAN_PASSPHRASE: APP_CUSTODIAN_PASSPHRASE };
}

/**
 * Runs `ciphershare <args> --home <home> --json`; rejects with its stderr when it fails, unless `allowFailure`
 * (the auditor exits 1 with its verdict when a check fails).
 */
export function runCli(home: string, args: readonly string[], allowFailure = false): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, "--home", home, "--json"], {
      cwd: ROOT,
      env: ciphershareEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0 && !(allowFailure && code === 1))
        return reject(new Error(`ciphershare ${args.join(" ")} failed (${code}): ${stderr.trim()}`));
      const last = stdout.trim().split("\n").at(-1) ?? "null";
      try {
        resolvePromise(JSON.parse(last));
      } catch {
        resolvePromise(last);
      }
    });
  });
}

/** Starts a long-running role (`coprocessor run`, `custodian run`); its output goes to `log` line by line. */
function startRole(home: string, args: readonly string[], log: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args, "--home", home], {
    cwd: ROOT,
    env: ciphershareEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const name = args[0];
  const forward = (chunk: Buffer) =>
    chunk
      .toString()
      .split("\n")
      .filter((line) => line.trim() !== "")
      .forEach((line) => log(`[${name}] ${line}`));
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);
  child.on("exit", (code, signal) => {
    if (!stopping.has(child)) {
      log(`[${name}] stopped (exit code ${code ?? signal}); restart it with \`ciphershare ${args.join(" ")}\``);
    }
  });
  return child;
}

/** Roles this process is stopping on purpose (their exit is not worth a warning). */
const stopping = new WeakSet<ChildProcess>();

function stopChild(child: ChildProcess): Promise<void> {
  stopping.add(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.kill("SIGTERM");
  });
}

export async function startAppServices(options: AppServiceOptions): Promise<AppServices> {
  const log = options.log ?? (() => {});
  const ws = openWorkspace(resolve(options.home));
  const chain = await startLocalNode({ port: 0 });
  const blobs = await startBlobServer(new LocalDirectoryBlobStore(ws.blobsDir), {
    port: 0,
    allowedOrigins: options.allowedOrigins,
  });
  writeNodeInfo(ws.nodeInfoFile, chain);
  writeJsonFile(ws.blobServerFile, { url: blobs.url });
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map(stopChild));
    removeNodeInfo(ws.nodeInfoFile);
    await blobs.close();
    await chain.stop();
  };
  try {
    const cli = (args: readonly string[]) => runCli(ws.home, args);
    log(`chain ${chain.rpcUrl}, blob store ${blobs.url}`);
    await cli(["network", "deploy"]);
    const deployment = readDeployment(ws);
    log("generating the custodian's deep-v2 keys (about 10–30 s)…");
    const keys = (await cli(["custodian", "keygen"])) as { publicBundleHash: string };
    const program = (await cli(["network", "create-program"])) as { programId: number | string };
    const round = (await cli([
      "network",
      "open-round",
      "--program",
      String(program.programId),
      "--commit-period",
      String(options.commitPeriod),
      ...(options.publicScores ? ["--public-scores"] : []),
    ])) as { roundId: number | string };
    const webDeploymentFile = join(ws.home, "web-deployment.json");
    writeJsonFile(webDeploymentFile, {
      contracts: {
        RoundManager: deployment.rounds,
        RoyaltyDistributor: deployment.distributor,
        RoyaltyToken: deployment.token,
      },
    });
    children.push(startRole(ws.home, ["coprocessor", "run"], log));
    children.push(startRole(ws.home, ["custodian", "run"], log));
    return {
      ws,
      rpcUrl: chain.rpcUrl,
      blobUrl: blobs.url,
      deployment,
      programId: Number(program.programId),
      roundId: Number(round.roundId),
      publicBundleHash: keys.publicBundleHash,
      webDeploymentFile,
      cli,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
