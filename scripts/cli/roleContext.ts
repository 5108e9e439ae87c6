// What every role command shares: the workspace (`--home`), the chain (`--rpc-url`), the wallet (`--account` /
// `--private-key`), the deployment, the blob store, and `--json` output (the last stdout line is one JSON value).
import type { Command } from "commander";
import { FhevmClient } from "@ciphershare/coprocessor/chain/fhevmClient";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import {
  blobStoreForUri,
  DEFAULT_HOME,
  openBlobStore,
  openWorkspace,
  providerFor,
  readDeployment,
  rpcUrlOf,
  walletFor,
  type Workspace,
} from "@ciphershare/coprocessor/roles/workspace";
import { chainEvents } from "@ciphershare/coprocessor/chain/events";

export interface CommonOptions {
  home: string;
  rpcUrl?: string;
  privateKey?: string;
  account?: string;
  json?: boolean;
}

export function withCommonOptions(command: Command, defaultAccount?: number): Command {
  command
    .option("--home <dir>", "workspace directory (node info, deployment, blobs, databases)", DEFAULT_HOME)
    .option("--rpc-url <url>", "JSON-RPC URL of the chain (default: the workspace's local node)")
    .option("--private-key <hex>", "sign with this key instead of a development account")
    .option("--json", "print one JSON value as the last line of stdout");
  if (defaultAccount !== undefined) {
    command.option("--account <index>", "Hardhat development account to sign with", String(defaultAccount));
  }
  return command;
}

export function parseInteger(value: string | undefined, name: string, min = 0): number {
  const parsed = Number(value);
  if (value === undefined || !Number.isSafeInteger(parsed) || parsed < min) {
    throw new InvalidInputError(`${name} must be an integer ≥ ${min}.`, { details: `${name} ${String(value)}` });
  }
  return parsed;
}

export function parseBigInt(value: string | undefined, name: string): bigint {
  if (value === undefined || !/^\d+$/.test(value)) {
    throw new InvalidInputError(`${name} must be a non-negative integer.`, { details: `${name} ${String(value)}` });
  }
  return BigInt(value);
}

export function roleContext(options: CommonOptions, accountIndex?: number) {
  const ws: Workspace = openWorkspace(options.home);
  const rpcUrl = rpcUrlOf(ws, options.rpcUrl);
  const provider = providerFor(ws, options.rpcUrl);
  const index = accountIndex ?? parseInteger(options.account ?? "0", "--account");
  const wallet = walletFor(provider, index, options.privateKey);
  return {
    ws,
    rpcUrl,
    provider,
    wallet,
    deployment: () => readDeployment(ws),
    store: openBlobStore(ws),
    storeForUri: (uri: string) => blobStoreForUri(ws, uri),
    events: chainEvents(rpcUrl),
    fhevm: () => FhevmClient.connect(rpcUrl),
    close: () => provider.destroy(),
  };
}

/** Human lines go to stdout unless --json; the JSON result is always the last stdout line. */
export function reporter(options: { json?: boolean }) {
  return {
    say: (line: string) => {
      if (!options.json) process.stdout.write(`${line}\n`);
    },
    result: (value: unknown, human?: string) => {
      if (options.json)
        process.stdout.write(`${JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v))}\n`);
      else if (human !== undefined) process.stdout.write(`${human}\n`);
    },
  };
}
