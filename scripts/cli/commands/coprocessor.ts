import type { Command } from "commander";
import { usageCoprocessorPass, type UsagePass } from "@ciphershare/coprocessor/roles/usage-daemon";
import {
  CONTRIBUTION_FETCH_TIMEOUT_MS,
  coprocessorPass,
  type CoprocessorOptions,
  type CoprocessorPass,
} from "@ciphershare/coprocessor/roles/coprocessor";
import { failureReason, FIRST_RETRY_DELAY_MS, WorkIsolation } from "@ciphershare/coprocessor/roles/isolation";
import { ROLE_ACCOUNT } from "@ciphershare/coprocessor/roles/workspace";
import { redisConnection } from "@ciphershare/coprocessor/queue/jobs";
import { startQueueWorker } from "@ciphershare/coprocessor/queue/worker";
import { DEFAULT_HOME, openBlobStore, openWorkspace } from "@ciphershare/coprocessor/roles/workspace";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import { HttpBlobStore } from "@ciphershare/coprocessor/storage/http-client";
import { roleAccount } from "@ciphershare/coprocessor/chain/clients";
import { workspaceRequestSigner } from "@ciphershare/coprocessor/roles/input-requests";
import { BLOB_GRANT_HEADER } from "@ciphershare/coprocessor/storage/blob-access";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import {
  parseInteger,
  parsePrograms,
  reporter,
  roleContext,
  withCommonOptions,
  type CommonOptions,
} from "../roleContext";

type Options = CommonOptions & {
  once?: boolean;
  interval: string;
  workers: string;
  programs?: string;
  fetchTimeout: string;
  retryDelay: string;
  queue?: string;
};
type WorkerOptions = {
  home: string;
  queue: string;
  store?: string;
  lockMs: string;
  account?: string;
  privateKey?: string;
  json?: boolean;
};

/**
 * Test hook: `CIPHERSHARE_KILL_AT=<point>` makes the process SIGKILL itself at that checkpoint (crash/resume
 * tests). Points: after-verify-inputs, after-fedavg, after-shapley, before-broadcast-publish, after-broadcast-publish;
 * worker-job (a queue worker, as a job starts).
 */
function killAt(point: string): void {
  if (process.env.CIPHERSHARE_KILL_AT === point) process.kill(process.pid, "SIGKILL");
}

/** `ciphershare coprocessor run`: watches the chain for closed rounds and processes them. */
export function register(program: Command): void {
  const coprocessor = program
    .command("coprocessor")
    .description("Coprocessor: verify inputs, FedAvg + encrypted Shapley, publish.");
  withCommonOptions(
    coprocessor
      .command("run")
      .description(
        "Process every closed round of this coprocessor's programs (again after an upheld challenge); resumes from its SQLite journal.",
      )
      .option("--once", "process what is pending, then exit")
      .option("--interval <ms>", "polling interval while watching", "1000")
      .option("--workers <n>", "worker threads for encrypted Shapley", "2")
      .option("--programs <ids>", "serve only these programs (comma-separated; default: every program naming it)")
      .option("--fetch-timeout <ms>", "deadline of one contribution's download", String(CONTRIBUTION_FETCH_TIMEOUT_MS))
      .option(
        "--retry-delay <ms>",
        "delay before a failed round is tried again (doubles)",
        String(FIRST_RETRY_DELAY_MS),
      )
      .option(
        "--queue <redis-url>",
        "fan the homomorphic jobs out to BullMQ workers on this Redis (redis://HOST:PORT)",
      ),
    ROLE_ACCOUNT.coprocessor,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const say = reporter(options);
    const state = StateStore.open(ctx.ws.coprocessorDb);
    const role: CoprocessorOptions = {
      deployment: ctx.deployment(),
      signer: ctx.signer,
      state,
      store: ctx.store,
      storeForUri: ctx.storeForUri,
      workers: parseInteger(options.workers, "--workers"),
      queue: options.queue === undefined ? undefined : (redisConnection(options.queue), options.queue),
      log: (line) => say.say(`[coprocessor] ${line}`),
      onProgress: (round, phase, done, total) => say.say(`[coprocessor] round ${round}: ${phase} ${done}/${total}`),
      checkpoint: killAt,
      programs: parsePrograms(options.programs),
      fetchTimeoutMs: parseInteger(options.fetchTimeout, "--fetch-timeout", 1),
    };
    const isolation = new WorkIsolation(state, "coprocessor", {
      firstRetryDelayMs: parseInteger(options.retryDelay, "--retry-delay"),
    });
    const processed: number[] = [];
    const failed = new Map<string, { round: number; publication: number; reason: string }>();
    let stopping = false;
    process.on("SIGTERM", () => (stopping = true));
    process.on("SIGINT", () => (stopping = true));
    try {
      for (;;) {
        let pass: CoprocessorPass | undefined;
        try {
          pass = await coprocessorPass(role, isolation);
        } catch (error) {
          // The chain or the store could not be read at all: nothing was done this pass; try again at the next.
          if (options.once) throw error;
          say.say(`[coprocessor] could not look for work: ${failureReason(error)}`);
        }
        for (const work of pass?.processed ?? []) {
          processed.push(Number(work.roundId));
          failed.delete(`${work.roundId}`);
        }
        // Usage programs' periods (docs/usage.md): the totals of each Closed period, next to the federated rounds.
        let usage: UsagePass | undefined;
        try {
          usage = await usageCoprocessorPass(role, isolation);
        } catch (error) {
          if (options.once) throw error;
          say.say(`[coprocessor] could not look for usage periods: ${failureReason(error)}`);
        }
        for (const { round } of usage?.done ?? []) {
          processed.push(Number(round));
          failed.delete(`${round}`);
        }
        for (const { round, reason } of usage?.failed ?? []) {
          failed.set(`${round}`, { round: Number(round), publication: 1, reason });
        }
        for (const work of pass?.failed ?? []) {
          failed.set(`${work.roundId}`, {
            round: Number(work.roundId),
            publication: work.publication,
            reason: work.reason,
          });
        }
        if (options.once || stopping) break;
        await new Promise((resolve) => setTimeout(resolve, parseInteger(options.interval, "--interval", 10)));
        if (stopping) break;
      }
      say.result({ processed, failed: [...failed.values()] });
    } finally {
      state.close();
    }
  });

  coprocessor
    .command("worker")
    .description(
      "Run homomorphic jobs (FedAvg partial sums, projections, Gram terms) from a BullMQ queue, on any machine; loads the evaluation keys by hash from the blob store once.",
    )
    .requiredOption("--queue <redis-url>", "the Redis the coprocessor fans out to (redis://HOST:PORT)")
    .option("--home <dir>", "workspace directory (its blob store unless --store)", DEFAULT_HOME)
    .option("--store <url>", "the coprocessor's blob server (http://HOST:PORT) when this machine has no workspace")
    .option("--lock-ms <ms>", "a job's lock; a dead worker's job is retried elsewhere after about this", "30000")
    .option(
      "--account <index>",
      "development account the worker signs its store reads with (default: a fresh key of its own; the coordinator grants that key each job's blobs)",
    )
    .option("--private-key <hex>", "sign the store reads with this key of the worker's own instead")
    .option("--json", "print one JSON value as the last line of stdout")
    .action(async (options: WorkerOptions) => {
      redisConnection(options.queue);
      const say = reporter(options);
      const ws = openWorkspace(options.home);
      // The worker reads with a key of its own (it never needs the coprocessor's): each job carries a read grant the
      // coordinator signed for this worker's address, the round and the job's blobs (storage/read-grant.ts). Its
      // requests are signed under the workspace's deployment (chain and hub).
      const account =
        options.account === undefined && options.privateKey === undefined
          ? privateKeyToAccount(generatePrivateKey())
          : roleAccount(parseInteger(options.account ?? "0", "--account", 0), options.privateKey);
      const sign = workspaceRequestSigner(ws, account);
      const storeForGrant = (grant: Hex | undefined) => {
        const authorize = async (hash: Hex) => ({
          ...(await sign(hash)),
          ...(grant === undefined ? {} : { [BLOB_GRANT_HEADER]: grant }),
        });
        return options.store ? new HttpBlobStore(options.store, {}, authorize) : openBlobStore(ws, authorize);
      };
      const worker = startQueueWorker({
        queue: options.queue,
        store: storeForGrant(undefined),
        identity: { address: account.address as Address, storeForGrant },
        lockDurationMs: parseInteger(options.lockMs, "--lock-ms", 1000),
        log: (line) => say.say(`[worker] ${line}`),
        onJobStart: () => killAt("worker-job"),
      });
      await worker.ready;
      say.say(`[worker] ${worker.id} (reading as ${account.address}) ready on ${options.queue}`);
      await new Promise<void>((resolve) => {
        process.once("SIGTERM", resolve);
        process.once("SIGINT", resolve);
      });
      await worker.close();
      say.result({ worker: worker.id, stopped: true });
    });
}
