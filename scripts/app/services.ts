// The services behind the web app on the embedded default, started the way an operator would: the local fhEVM
// chain and the blob server (in this process, like `ciphershare node start`), then `ciphershare network deploy`,
// `custodian keygen --committee`, `network create-program --committee`, `custodian accept --member K` for each of the
// three members, `network open-round`, and the long-running `coprocessor run` and the three members'
// `custodian run --member K` as child processes (`committee: false`: one custodian instead). `npm run app` and the browser test of a real round both use it.
import { join, resolve } from "node:path";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { startEmbeddedNetwork } from "@ciphershare/coprocessor/roles/embedded-network";
import { readDeployment, writeJsonFile, type Workspace } from "@ciphershare/coprocessor/roles/workspace";
import type { RunningChild } from "@ciphershare/coprocessor/process/child";
import { ciphershareJson, PROJECT_ROOT, roleEnvironment, startCiphershareRole } from "../lib/cli-process";

export const ROOT = PROJECT_ROOT;
/** The local custodian's keystore passphrase (development only: the keystore lives in the app's workspace). */
export const APP_CUSTODIAN_PASSPHRASE = "ciphershare local app custodian";
/** A role's environment: the passphrase only for `custodian …` processes (never the coprocessor's). */
export function appRoleEnvironment(args: readonly string[]): Record<string, string | undefined> {
  return roleEnvironment(args, APP_CUSTODIAN_PASSPHRASE);
}

export interface AppServiceOptions {
  readonly home: string;
  /** Origins the blob server lets upload from a browser (the web app's). */
  readonly allowedOrigins: readonly string[];
  /** Open round 1 with public scores (`network open-round --public-scores`). */
  readonly publicScores: boolean;
  /** Seconds contributors have to commit to round 1. */
  readonly commitPeriod: number;
  /** Seconds after the commit deadline to reveal and upload (default 1800). */
  readonly revealWindow?: number;
  /**
   * Custody by a 2-of-3 committee, each member its own `custodian run --member K` process (the default); false:
   * one custodian holding the whole key.
   */
  readonly committee?: boolean;
  readonly log?: (line: string) => void;
}

/** The app's committee: members 1–3 (development accounts 17–19), any 2 of them release. */
export const APP_COMMITTEE = { members: [1, 2, 3], threshold: 2 } as const;

export interface AppServices {
  readonly ws: Workspace;
  readonly rpcUrl: string;
  readonly blobUrl: string;
  readonly deployment: Deployment;
  readonly programId: number;
  readonly roundId: number;
  readonly publicBundleHash: string;
  /** The committee serving program 1, or undefined with a single custodian. */
  readonly committee?: { readonly members: readonly number[]; readonly threshold: number };
  /** `{ contracts: { Name: address } }` for the web app's runtime configuration. */
  readonly webDeploymentFile: string;
  /** Runs one `ciphershare` command in this workspace; its --json result. */
  cli(args: readonly string[]): Promise<unknown>;
  stop(): Promise<void>;
}

/** `ciphershare <args> --home <home> --json`; the app custodian's passphrase goes only to `custodian …` commands. */
export function runCli(home: string, args: readonly string[], allowFailure = false): Promise<unknown> {
  return ciphershareJson(home, args, { env: appRoleEnvironment(args), allowFailure });
}

/** Starts a long-running role; its output goes to `log`, and an exit nobody asked for is reported. */
function startRole(home: string, args: readonly string[], log: (line: string) => void): RunningChild {
  const name = args.includes("--member") ? `member ${args[args.indexOf("--member") + 1]}` : args[0];
  const role = startCiphershareRole(home, args, {
    env: appRoleEnvironment(args),
    onLine: (line) => {
      if (line.trim() !== "") log(`[${name}] ${line}`);
    },
  });
  void role.exited.then(({ code, signal }) => {
    if (!stopping.has(role)) {
      log(`[${name}] stopped (exit code ${code ?? signal}); restart it with \`ciphershare ${args.join(" ")}\``);
    }
  });
  return role;
}

/** Roles this process is stopping on purpose (their exit is not worth a warning). */
const stopping = new WeakSet<RunningChild>();

export async function startAppServices(options: AppServiceOptions): Promise<AppServices> {
  const log = options.log ?? (() => {});
  const network = await startEmbeddedNetwork(resolve(options.home), { allowedOrigins: options.allowedOrigins });
  const { ws, chain, blobs } = network;
  const roles: RunningChild[] = [];
  const stop = async () => {
    for (const role of roles) stopping.add(role);
    await Promise.all(roles.map((role) => role.stop()));
    await network.stop();
  };
  try {
    const cli = (args: readonly string[]) => runCli(ws.home, args);
    log(`chain ${chain.rpcUrl}, blob store ${blobs.url}`);
    await cli(["network", "deploy"]);
    const deployment = readDeployment(ws);
    const committee = options.committee === false ? undefined : APP_COMMITTEE;
    log(
      committee
        ? `the dealer's ceremony: deep-v2 keys, one Shamir share per member (${committee.threshold} of ${committee.members.length}), key wiped (about 10–30 s)…`
        : "generating the custodian's deep-v2 keys (about 10–30 s)…",
    );
    const keys = (await cli([
      "custodian",
      "keygen",
      ...(committee ? ["--committee", "--threshold", String(committee.threshold)] : []),
    ])) as { publicBundleHash: string };
    const program = (await cli(["network", "create-program", ...(committee ? ["--committee"] : [])])) as {
      programId: number | string;
    };
    if (committee) {
      for (const k of committee.members) {
        await cli(["custodian", "accept", "--program", String(program.programId), "--member", String(k)]);
      }
    } else {
      await cli(["custodian", "accept", "--program", String(program.programId)]);
    }
    const round = (await cli([
      "network",
      "open-round",
      "--program",
      String(program.programId),
      "--commit-period",
      String(options.commitPeriod),
      "--reveal-window",
      String(options.revealWindow ?? 1800),
      ...(options.publicScores ? ["--public-scores"] : []),
    ])) as { roundId: number | string };
    const webDeploymentFile = join(ws.home, "web-deployment.json");
    writeJsonFile(webDeploymentFile, {
      contracts: {
        RoundManager: deployment.rounds,
        RoyaltyDistributor: deployment.distributor,
        RoyaltyToken: deployment.token,
        AnonymousPayouts: deployment.anonymousPayouts,
        ...(deployment.usageTerms ? { UsageTerms: deployment.usageTerms } : {}),
        CipherShareForwarder: deployment.forwarder,
        ...(deployment.committee ? { CustodianCommittee: deployment.committee } : {}),
      },
    });
    roles.push(startRole(ws.home, ["coprocessor", "run"], log));
    if (committee) {
      for (const k of committee.members)
        roles.push(startRole(ws.home, ["custodian", "run", "--member", String(k)], log));
    } else {
      roles.push(startRole(ws.home, ["custodian", "run"], log));
    }
    return {
      ws,
      rpcUrl: chain.rpcUrl,
      blobUrl: blobs.url,
      deployment,
      programId: Number(program.programId),
      roundId: Number(round.roundId),
      publicBundleHash: keys.publicBundleHash,
      committee,
      webDeploymentFile,
      cli,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
