// Helpers of the end-to-end tests: the embedded chain and blob store in the test process, every role as a
// `ciphershare` child process in a temporary workspace.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalNode, type LocalNode } from "@ciphershare/coprocessor/chain/localNode";
import { PROJECT_ROOT, runCiphershare, type CliRun } from "@ciphershare/scripts/lib/cli-process";
import { writeNodeInfo } from "@ciphershare/coprocessor/chain/nodeInfo";
import { openWorkspace, writeJsonFile, type Workspace } from "@ciphershare/coprocessor/roles/workspace";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { startBlobServer, type RunningBlobServer } from "@ciphershare/coprocessor/storage/http-server";

export const ROOT = PROJECT_ROOT;
export const PASSPHRASE = "test custodian passphrase";

export type RunResult = CliRun;

/** Runs `ciphershare <args>` (or another script) as a child process with the test custodian's passphrase. */
export function run(args: string[], env: Record<string, string> = {}, script?: string): Promise<RunResult> {
  return runCiphershare(args, { env: { CIPHERSHARE_CUSTODIAN_PASSPHRASE: PASSPHRASE, ...env }, script });
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
