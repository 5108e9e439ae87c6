// What every role command shares: the workspace (`--home`), the chain (`--rpc-url`), the account (`--account` /
// `--private-key`), the deployment, the blob store, and `--json` output (the last stdout line is one JSON value).
import type { Command } from "commander";
import { chainSigner, roleAccount, type ChainReader, type ChainSigner } from "@ciphershare/coprocessor/chain/clients";
import { FhevmClient } from "@ciphershare/coprocessor/chain/fhevmClient";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { StoreForUri } from "@ciphershare/coprocessor/storage/blob-store";
import { workspaceRequestSigner } from "@ciphershare/coprocessor/roles/input-requests";
import {
  blobStoreForUri,
  DEFAULT_HOME,
  openBlobStore,
  openWorkspace,
  readDeployment,
  readerFor,
  rpcUrlOf,
  type Workspace,
} from "@ciphershare/coprocessor/roles/workspace";

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

/** `--programs 1,3`: the program ids a role serves; undefined when the option is absent (every program). */
export function parsePrograms(value: string | undefined): bigint[] | undefined {
  if (value === undefined) return undefined;
  const ids = value.split(",").map((id) => id.trim());
  if (ids.length === 0 || ids.some((id) => !/^[1-9]\d*$/.test(id))) {
    throw new InvalidInputError("--programs must list program ids (positive integers) separated by commas.", {
      details: `--programs ${value}`,
    });
  }
  return ids.map(BigInt);
}

export function parseBigInt(value: string | undefined, name: string): bigint {
  if (value === undefined || !/^\d+$/.test(value)) {
    throw new InvalidInputError(`${name} must be a non-negative integer.`, { details: `${name} ${String(value)}` });
  }
  return BigInt(value);
}

export interface RoleContext {
  readonly ws: Workspace;
  readonly rpcUrl: string;
  readonly reader: ChainReader;
  /** The role's account (`--private-key`, else the development account). */
  readonly signer: ChainSigner;
  /** Another development account on the same chain (the relayer, a default party). */
  devSigner(index: number): ChainSigner;
  deployment(): ReturnType<typeof readDeployment>;
  readonly store: ReturnType<typeof openBlobStore>;
  storeForUri: StoreForUri;
  fhevm(): Promise<FhevmClient>;
}

export function roleContext(options: CommonOptions, accountIndex?: number): RoleContext {
  const ws: Workspace = openWorkspace(options.home);
  const rpcUrl = rpcUrlOf(ws, options.rpcUrl);
  const reader = readerFor(ws, options.rpcUrl);
  const index = accountIndex ?? parseInteger(options.account ?? "0", "--account");
  const account = roleAccount(index, options.privateKey);
  // Every read is signed by the role's account: the blob server serves a round's inputs only to the program's
  // coprocessor, custodians (committee members) and named input auditors (input-access.ts).
  const authorize = workspaceRequestSigner(ws, account);
  return {
    ws,
    rpcUrl,
    reader,
    signer: chainSigner(reader, account),
    devSigner: (devIndex) => chainSigner(reader, roleAccount(devIndex)),
    deployment: () => readDeployment(ws),
    store: openBlobStore(ws, authorize),
    storeForUri: (uri, limits) => blobStoreForUri(ws, uri, limits, authorize),
    fhevm: () => FhevmClient.connect(rpcUrl),
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
