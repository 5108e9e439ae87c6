// Helpers of the end-to-end tests: the embedded chain and blob store in the test process, every role as a
// `ciphershare` child process in a temporary workspace.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findProjectRoot, startLocalNode, type LocalNode } from "../../coprocessor/src/chain/localNode";
import { writeNodeInfo } from "../../coprocessor/src/chain/nodeInfo";
import { openWorkspace, writeJsonFile, type Workspace } from "../../coprocessor/src/roles/workspace";
import { LocalDirectoryBlobStore } from "../../coprocessor/src/storage/local-directory";
import { startBlobServer, type RunningBlobServer } from "../../coprocessor/src/storage/http-server";

export const ROOT = findProjectRoot(__dirname);
export const PASSPHRASE = "test custodian passphrase";

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  json: unknown;
}

/** Runs `ciphershare <args>` (or another script) as a child process and collects its output. */
export function run(
  args: string[],
  env: Record<string, string> = {},
  script = join(ROOT, "bin", "ciphershare.js"),
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: ROOT,
      env: { ...process.env, CIPHERSHARE_CUSTODIAN_PASSPHRASE: PASSPHRASE, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout.trim().split("\n").pop() ?? "");
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}

/** `ciphershare … --home <home> --json` that must succeed; returns its JSON result. */
export async function cli<T = unknown>(home: string, args: string[]): Promise<T> {
  const result = await run([...args, "--home", home, "--json"]);
  if (result.code !== 0) throw new Error(`ciphershare ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  return result.json as T;
}

export interface TestNetwork {
  readonly home: string;
  readonly ws: Workspace;
  readonly chain: LocalNode;
  readonly blobs: RunningBlobServer;
  stop(): Promise<void>;
}

export async function startTestNetwork(prefix: string): Promise<TestNetwork> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const ws = openWorkspace(home);
  const chain = await startLocalNode({ port: 0 });
  const blobs = await startBlobServer(new LocalDirectoryBlobStore(ws.blobsDir));
  writeNodeInfo(ws.nodeInfoFile, chain);
  writeJsonFile(ws.blobServerFile, { url: blobs.url });
  return {
    home,
    ws,
    chain,
    blobs,
    stop: async () => {
      await blobs.close();
      await chain.stop();
    },
  };
}
