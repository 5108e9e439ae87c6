// `npm run demo`: real federated-learning royalty rounds on the embedded default. This process plays the operator's
// console: it starts the local fhEVM chain and the blob store, then every role runs as its own `ciphershare` process
// (network, 8 contributors, coprocessor, custodian, auditor) talking JSON-RPC and HTTP. Contributors train on their
// own non-IID MNIST partition (one label-flipping poisoned client, one free rider returning the base model), encrypt
// under the custodian's public bundle and commit a seal with a deposit; once the commit phase is over they reveal and
// upload; the coprocessor runs FedAvg and encrypted Shapley and publishes; after the dispute window the round is
// finalized and only then the custodian releases the new global model and φ, anchors the release and settles
// encrypted shares in batches; contributors claim and take their deposits back; the auditor re-verifies.
// Custody is a 2-of-3 committee by default: the dealer's ceremony seals one Shamir share of the CKKS key per member,
// each member accepts and serves as its own `custodian run --member K` process; `--single-custodian` runs one
// custodian holding the whole key instead.
//   npm run demo [-- --quick] [-- --json] [-- --home <dir>] [-- --single-custodian]; npm run demo -- --usage
//   (scripts/demo/usage-round.ts)
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { SingleBar, Presets } from "cli-progress";
import { EXCLUSION_REASON_NAMES, RoundPhase, SettlementState } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { sameAddress, type Hex } from "@ciphershare/protocol/hex";
import { decodeModel } from "@ciphershare/protocol/records/model";
import type { ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { chainReader } from "@ciphershare/coprocessor/chain/clients";
import { contractsToRead, readRound } from "@ciphershare/coprocessor/chain/contracts";
import { readCommitments, readReasons } from "@ciphershare/coprocessor/chain/events";
import type { RunningChild } from "@ciphershare/coprocessor/process/child";
import { findRelease } from "@ciphershare/coprocessor/roles/auditor";
import { committeeToRead } from "@ciphershare/coprocessor/roles/committee-member";
import { custodianPhi } from "@ciphershare/coprocessor/roles/custodian";
import { committeeFiles } from "../cli/commands/committee";
import { startEmbeddedNetwork } from "@ciphershare/coprocessor/roles/embedded-network";
import { readDeployment } from "@ciphershare/coprocessor/roles/workspace";
import { accuracy } from "@ciphershare/coprocessor/simulation/evaluate";
import { mnistFederatedSetup } from "@ciphershare/coprocessor/simulation/federated";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { roleEnvironment, runCiphershare, startCiphershareRole, type CliRun } from "../lib/cli-process";
import { contributionChartSvg } from "./chart";
import { usageDemo } from "./usage-round";
import { trainingDemo } from "./training-round";
import { DEMO_DATA_SEED, DEMO_LABEL_SKEW_ALPHA } from "./settings";
import { startRedisServer } from "@ciphershare/coprocessor/queue/redis-server";

const POOL_UNITS = 1_000_000_000n; // 1 000 tokens at 6 decimals
const COMMIT_DEPOSIT_WEI = 10n ** 16n; // 0.01 ETH per commitment, refunded on inclusion
const PASSPHRASE = "demo custodian passphrase";
/** The demo contributors' keystore passphrase (their payout keys are sealed with it). */
const CONTRIBUTOR_PASSPHRASE = "demo contributor passphrase";

interface DemoOptions {
  quick: boolean;
  json: boolean;
  home: string;
  rounds: number;
  contributors: number;
  /** BullMQ worker processes for the coprocessor's HE jobs (on a Redis of the demo's own); 0: worker threads. */
  workers: number;
  /** A 2-of-3 custodian committee (three member processes; the default) instead of one custodian. */
  committee: boolean;
}

/** Committee members of the demo (the default custody): 2 of 3, development accounts 17–19. */
const COMMITTEE_MEMBERS = [1, 2, 3];
const COMMITTEE_THRESHOLD = 2;

function parseArguments(argv: string[]): DemoOptions {
  const parsed = new Command()
    .name("npm run demo --")
    .description("Runs real federated-learning royalty rounds end to end on the embedded local chain.")
    .option("--quick", "1 round, 4 contributors")
    .option("--json", "the last stdout line is the result as JSON (and nothing else is printed on stdout)")
    .option("--home <dir>", "workspace (wiped at start)", join(".ciphershare", "demo"))
    .option("--rounds <n>", "rounds to run (default 3, --quick 1)")
    .option("--workers <n>", "run the coprocessor's HE jobs on n BullMQ worker processes (starts its own Redis)")
    .option("--contributors <n>", "contributors, 3 to 16 (default 8, --quick 4; at most 12 with the committee)")
    .option("--single-custodian", "one custodian holding the whole CKKS key instead of the 2-of-3 committee")
    .option("--committee", "a 2-of-3 custodian committee, three member processes (the default; kept for scripts)")
    .parse(argv, { from: "user" })
    .opts<{
      quick?: boolean;
      json?: boolean;
      home: string;
      rounds?: string;
      contributors?: string;
      workers?: string;
      committee?: boolean;
      singleCustodian?: boolean;
    }>();
  if (parsed.committee === true && parsed.singleCustodian === true) {
    process.stderr.write("demo: --committee and --single-custodian exclude each other\n");
    process.exit(2);
  }
  const committee = parsed.singleCustodian !== true;
  const quick = parsed.quick === true;
  const rounds = Number(parsed.rounds ?? (quick ? 1 : 3));
  const contributors = Number(parsed.contributors ?? (quick ? 4 : 8));
  const workers = Number(parsed.workers ?? 0);
  if (!Number.isSafeInteger(workers) || workers < 0 || workers > 16) {
    process.stderr.write(`demo: --workers must be 0 (worker threads) to 16 (got ${parsed.workers})\n`);
    process.exit(2);
  }
  if (
    !Number.isSafeInteger(rounds) ||
    rounds < 1 ||
    !Number.isSafeInteger(contributors) ||
    contributors < 3 ||
    contributors > (committee ? 12 : 16)
  ) {
    process.stderr.write(
      "demo: --rounds must be ≥ 1 and --contributors between 3 and 12 (16 with --single-custodian)\n",
    );
    process.exit(2);
  }
  return { quick, json: parsed.json === true, home: resolve(parsed.home), rounds, contributors, workers, committee };
}

/** Contributor i's behaviour: the second-to-last is poisoned (label flipping), the last a free rider. */
function behaviourOf(index: number, count: number): "honest" | "poisoned" | "free-rider" {
  if (index === count - 2) return "poisoned";
  if (index === count - 1) return "free-rider";
  return "honest";
}

class Console {
  private bar: SingleBar | undefined;
  constructor(private readonly options: DemoOptions) {}
  get interactive(): boolean {
    return !this.options.json && Boolean(process.stdout.isTTY);
  }
  say(line: string): void {
    if (this.options.json) return;
    if (this.bar) this.bar.stop();
    this.bar = undefined;
    process.stdout.write(`${line}\n`);
  }
  progress(title: string, total: number): { tick: (value?: number) => void; done: () => void } {
    if (!this.interactive) {
      this.say(`• ${title}…`);
      return { tick: () => {}, done: () => {} };
    }
    const bar = new SingleBar(
      { format: `  ${title.padEnd(44)} [{bar}] {value}/{total}`, hideCursor: true },
      Presets.shades_classic,
    );
    bar.start(total, 0);
    this.bar = bar;
    let value = 0;
    return {
      tick: (next?: number) => bar.update((value = next ?? value + 1)),
      done: () => {
        bar.update(total);
        bar.stop();
        if (this.bar === bar) this.bar = undefined;
      },
    };
  }
}

/** Runs one `ciphershare` command as its own process; its --json result is the last stdout line. */
async function cli(home: string, args: string[], allowFailure = false): Promise<CliRun> {
  const result = await runCiphershare([...args, "--home", home, "--json"], {
    env: roleEnvironment(args, PASSPHRASE, CONTRIBUTOR_PASSPHRASE),
  });
  if (result.code !== 0 && !allowFailure) {
    const why = result.stderr.trim() || result.stdout.trim();
    throw new Error(`ciphershare ${args.slice(0, 2).join(" ")} failed (exit ${result.code}): ${why}`);
  }
  return result;
}

/** A long-running role process (`coprocessor run`, `custodian run`); its lines go to a log file and `onLine`. */
function daemon(
  home: string,
  args: string[],
  onLine: (line: string) => void,
  name = args[0] === "custodian" && args.includes("--member")
    ? `member-${args[args.indexOf("--member") + 1]}`
    : args[0],
): RunningChild {
  const log: string[] = [];
  const role = startCiphershareRole(home, args, {
    env: roleEnvironment(args, PASSPHRASE, CONTRIBUTOR_PASSPHRASE),
    onLine: (line, stream) => {
      log.push(stream === "stderr" ? `stderr: ${line}` : line);
      if (stream === "stdout") onLine(line);
    },
  });
  void role.exited.then(() => writeFileSync(join(home, `${name}.log`), log.join("\n") + "\n"));
  return role;
}

async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index], index);
      }
    }),
  );
  return results;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  failed: () => string | undefined,
): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const failure = failed();
    if (failure !== undefined) throw new Error(`${what}: ${failure}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const out = new Console(options);
  const started = performance.now();
  const n = options.contributors;
  out.say(
    `CipherShare — ${options.rounds} federated-learning royalty round(s), ${n} contributors, on the embedded fhEVM chain\n`,
  );

  rmSync(options.home, { recursive: true, force: true });
  mkdirSync(options.home, { recursive: true });
  const network = await startEmbeddedNetwork(options.home);
  const { ws, chain, blobs } = network;
  const daemons: RunningChild[] = [];
  // The roles stop on SIGTERM between rounds of work (no SIGKILL: a journaled step must not be cut).
  const stopDaemons = () => Promise.all(daemons.map((daemon) => daemon.stop(Number.POSITIVE_INFINITY)));
  const redis =
    options.workers > 0
      ? await startRedisServer().catch(async (error: unknown) => {
          await network.stop();
          throw error;
        })
      : undefined;
  const stopAll = async () => {
    await stopDaemons();
    await network.stop();
    await redis?.stop();
  };
  try {
    out.say(`• local chain ${chain.rpcUrl} (fhEVM mock), blob store ${blobs.url}, workspace ${options.home}`);

    await cli(options.home, ["network", "deploy"]);
    const keygen = out.progress(
      options.committee
        ? "dealer: CKKS keys (deep-v2, Galois keys), one Shamir share per member, key wiped"
        : "custodian: CKKS keys (deep-v2, Galois keys)",
      1,
    );
    const keys = (
      await cli(options.home, [
        "custodian",
        "keygen",
        ...(options.committee ? ["--committee", "--threshold", String(COMMITTEE_THRESHOLD)] : []),
      ])
    ).json as {
      publicBundleHash: Hex;
      bundleBytes: number;
      contributorBundleBytes: number;
    };
    keygen.done();
    out.say(
      `• ${options.committee ? "dealer" : "custodian"} published the public bundle ${keys.publicBundleHash.slice(0, 12)}… (${(keys.bundleBytes / 1e6).toFixed(0)} MB; contributors download ${(keys.contributorBundleBytes / 1e6).toFixed(1)} MB of it)`,
    );
    const { programId } = (
      await cli(options.home, [
        "network",
        "create-program",
        "--commit-deposit",
        COMMIT_DEPOSIT_WEI.toString(),
        ...(options.committee ? ["--committee"] : []),
      ])
    ).json as { programId: string };
    out.say(
      `• network created program ${programId} (coprocessor, custodian, bundle hash, exact Shapley, ≥ 3 contributors, 0.01 ETH deposit)`,
    );
    if (options.committee) {
      for (const k of COMMITTEE_MEMBERS) {
        await cli(options.home, ["custodian", "accept", "--program", programId, "--member", String(k)]);
      }
      out.say(`• each of the 3 committee members checked the terms and its share's commitment, and accepted on-chain`);
    } else {
      await cli(options.home, ["custodian", "accept", "--program", programId]);
      out.say(`• custodian checked the program's terms and accepted it on-chain`);
    }

    const indices = [...Array(n).keys()];
    const addresses = await inParallel(indices, 4, async (i) => {
      const args = ["contributor", "register", "--index", String(i)];
      if (i === 0) args.push("--gasless");
      return ((await cli(options.home, args)).json as { address: string }).address;
    });
    out.say(`• ${n} contributors registered (contributor 0 gaslessly, an EIP-712 signature relayed)`);

    const deployment: Deployment = readDeployment(ws);
    const reader = chainReader(chain.rpcUrl, chain.chainId);
    const store = new LocalDirectoryBlobStore(ws.blobsDir);
    const setup = mnistFederatedSetup({ seed: DEMO_DATA_SEED, clients: n, alpha: DEMO_LABEL_SKEW_ALPHA });

    let coprocessorProgress: ((line: string) => void) | undefined;
    const queue = redis ? ["--queue", redis.url] : [];
    for (let w = 1; w <= options.workers; w++) {
      daemons.push(daemon(options.home, ["coprocessor", "worker", ...queue], () => {}, `worker-${w}`));
    }
    if (redis) out.say(`• ${options.workers} BullMQ worker process(es) on ${redis.url} run the coprocessor's HE jobs`);
    const coprocessor = daemon(options.home, ["coprocessor", "run", "--interval", "500", ...queue], (line) =>
      coprocessorProgress?.(line),
    );
    const custodians = options.committee
      ? COMMITTEE_MEMBERS.map((k) =>
          daemon(options.home, ["custodian", "run", "--member", String(k), "--interval", "500"], () => {}),
        )
      : [daemon(options.home, ["custodian", "run", "--interval", "500"], () => {})];
    daemons.push(coprocessor, ...custodians);
    const daemonFailure = () => {
      if (coprocessor.child.exitCode !== null) {
        return `the coprocessor exited (${coprocessor.child.exitCode}); see ${join(options.home, "coprocessor.log")}`;
      }
      const stopped = custodians.findIndex((c) => c.child.exitCode !== null);
      if (stopped < 0) return undefined;
      const log = options.committee ? `member-${COMMITTEE_MEMBERS[stopped]}.log` : "custodian.log";
      return `a custodian exited (${custodians[stopped].child.exitCode}); see ${join(options.home, log)}`;
    };

    const releases: ReleaseRecord[] = [];
    /** The committee members whose partial decryptions released each round (the decrypting set). */
    const releasedBy: number[][] = [];
    const exclusions: Map<number, string>[] = [];
    const royalties: string[][] = [];
    const anonymous = indices.filter((i) => i % 2 === 1);
    const accuracies: number[] = [];
    let base = "zero";
    const { distributor } = contractsToRead(deployment, reader);
    for (let r = 1; r <= options.rounds; r++) {
      out.say(`\nRound ${r}`);
      const opened = (
        await cli(options.home, [
          "network",
          "open-round",
          "--program",
          programId,
          "--base",
          base,
          "--data-seed",
          String(DEMO_DATA_SEED),
        ])
      ).json as { roundId: string };
      const roundId = BigInt(opened.roundId);
      const submitting = out.progress("contributors: train, encrypt, commit a sealed hash", n);
      let submitted = 0;
      await inParallel(indices, 2, async (i) => {
        await cli(options.home, [
          "contributor",
          "submit",
          "--index",
          String(i),
          "--round",
          String(roundId),
          "--clients",
          String(n),
          "--data-seed",
          String(DEMO_DATA_SEED),
          "--behaviour",
          behaviourOf(i, n),
        ]);
        submitting.tick(++submitted);
      });
      submitting.done();
      // Half of the contributors (odd numbers) take their royalty anonymously: each seals a fresh payout address
      // for the round now, before settlement; its claim below is sent by the relayer account to that address.
      for (const i of anonymous) {
        await cli(options.home, ["contributor", "seal-payout", "--index", String(i), "--round", String(roundId)]);
      }
      const revealing = out.progress("contributors: reveal and upload (reveal phase)", n);
      // The first reveal moves the dev chain's clock past the commit deadline; the others find the phase open.
      const reveal = (i: number, advance: boolean) =>
        cli(options.home, [
          "contributor",
          "reveal",
          "--index",
          String(i),
          "--round",
          String(roundId),
          ...(advance ? ["--advance-time"] : []),
        ]);
      await reveal(0, true);
      revealing.tick(1);
      let revealed = 1;
      await inParallel(indices.slice(1), 4, async (i) => {
        await reveal(i, false);
        revealing.tick(++revealed);
      });
      revealing.done();
      await cli(options.home, ["network", "close", "--round", String(roundId), "--advance-time"]);

      const computing = out.progress("coprocessor: verify, FedAvg, encrypted Shapley", n + 2);
      coprocessorProgress = (line) => {
        const match = /round (\d+): projection (\d+)\/(\d+)/.exec(line);
        if (match && BigInt(match[1]) === roundId) computing.tick(Number(match[2]) + 1);
      };
      await waitFor(
        "waiting for results",
        async () =>
          (await readRound(deployment, reader, roundId)).phase === RoundPhase.ResultsPublished ? true : undefined,
        daemonFailure,
      );
      computing.done();
      await cli(options.home, ["network", "fund", "--round", String(roundId), "--amount", POOL_UNITS.toString()]);
      await cli(options.home, ["network", "finalize", "--round", String(roundId), "--advance-time"]);
      const releasing = out.progress(
        options.committee
          ? "committee: recompute, partial decryptions, combine, anchor"
          : "custodian: recompute, decrypt the finalized outputs, release, anchor",
        1,
      );
      const release = await waitFor(
        "waiting for the release",
        () => findRelease({ deployment, reader, store }, roundId),
        daemonFailure,
      );
      releasing.done();
      if (options.committee) {
        const set = (await committeeToRead(deployment, reader).read.decryptingSetOf([roundId])).map(Number);
        releasedBy.push(set);
        out.say(
          `  released by member${set.length === 1 ? "" : "s"} ${set.join(", ")} (${set.length} of ${COMMITTEE_MEMBERS.length}): each recomputed the outputs, published its partial decryptions; the combination is anchored`,
        );
      }
      const settling = out.progress(
        options.committee
          ? "committee: settle encrypted shares (proposed, confirmed), complete"
          : "custodian: settle encrypted shares, complete",
        1,
      );
      await waitFor(
        "waiting for settlement",
        async () =>
          Number(await distributor.read.settlementState([roundId])) === SettlementState.Completed ? true : undefined,
        daemonFailure,
      );
      settling.done();
      exclusions.push(await excludedContributors(deployment, reader, roundId, addresses));
      // One at a time: the fhEVM mock node mis-parses events when user decryptions overlap.
      const claims = await inParallel(indices, 1, async (i) => {
        const included = release.contributors.some((a) => sameAddress(a, addresses[i]));
        if (!included) return "0";
        if (anonymous.includes(i)) {
          // The fresh address's balance: it holds nothing but this round's payout.
          const paid = (
            await cli(options.home, [
              "contributor",
              "claim",
              "--anonymous",
              "--index",
              String(i),
              "--round",
              String(roundId),
            ])
          ).json as { balance: string };
          return paid.balance;
        }
        const claimed = (
          await cli(options.home, ["contributor", "claim", "--index", String(i), "--round", String(roundId)])
        ).json as { claimed: string };
        return claimed.claimed;
      });
      const refunds = await inParallel(indices, 4, async (i) => {
        const outcome = (
          await cli(options.home, ["contributor", "withdraw-deposit", "--index", String(i), "--round", String(roundId)])
        ).json as { refunded: string };
        return BigInt(outcome.refunded);
      });
      const forfeited = (await cli(options.home, ["network", "collect-deposits", "--round", String(roundId)])).json as {
        count: number;
      };
      out.say(
        `  deposits: ${refunds.filter((r) => r > 0n).length} refunded, ${forfeited.count} forfeited to the network`,
      );
      releases.push(release);
      const global = decodeModel(await store.get(release.globalModel));
      const testAccuracy = accuracy(global, setup.test);
      royalties.push(claims);
      accuracies.push(testAccuracy);
      base = release.globalModel;
      out.say(
        `  global model test accuracy ${(testAccuracy * 100).toFixed(1)} %; Σ royalties ${claims.reduce((s, c) => s + BigInt(c), 0n)} units = pool (${anonymous.map((i) => `#${i}`).join(", ")} paid anonymously, at fresh sealed addresses)`,
      );
    }

    await stopDaemons();
    // Operator's view: the individual φ live only in the custodian's database (the public release has Σφ).
    const custodianState = StateStore.open(
      options.committee ? committeeFiles(ws).db(COMMITTEE_MEMBERS[0]) : ws.custodianDb,
    );
    const phi = releases.map((release) => {
      const released = custodianPhi(custodianState, release.round);
      return addresses.map((a) => released[release.contributors.findIndex((c) => sameAddress(c, a))] ?? 0);
    });
    custodianState.close();
    const auditing = out.progress("auditor: re-verify every round", options.rounds);
    const audits = [];
    for (let r = 1; r <= options.rounds; r++) {
      const result = await cli(options.home, ["audit", "--round", String(r)], true);
      audits.push({
        round: r,
        code: result.code,
        verdict: result.json as { passed: boolean; checks: { name: string; passed: boolean; detail: string }[] },
      });
      auditing.tick(r);
    }
    auditing.done();
    const auditPassed = audits.every((a) => a.code === 0 && a.verdict?.passed === true);
    const flagged = indices.filter((i) => phi.some((round) => round[i] <= 0));

    const chartPath = join(options.home, "contributions.svg");
    writeFileSync(
      chartPath,
      contributionChartSvg(
        phi,
        indices.map((i) => `#${i} ${behaviourOf(i, n)}`),
      ),
    );
    printTable(out, phi, royalties, accuracies, indices, flagged, n, exclusions);
    for (const audit of audits) {
      const failed = audit.verdict?.checks.filter((c) => !c.passed) ?? [];
      out.say(
        `audit round ${audit.round}: ${audit.code === 0 ? "PASSED" : "FAILED"} (${audit.verdict?.checks.length ?? 0} checks${failed.length ? `; failed: ${failed.map((c) => c.name).join(", ")}` : ""})`,
      );
    }
    out.say(`chart of contributions per round: ${chartPath}`);
    out.say(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ rounds: options.rounds, contributors: n, phi, royalties: royalties.map((r) => r.map(Number)), flagged, accuracy: accuracies, auditPassed, anonymous, excluded: exclusions.map((round) => Object.fromEntries(round)), custody: options.committee ? "committee" : "single-custodian", ...(options.committee ? { committee: { members: COMMITTEE_MEMBERS.length, threshold: COMMITTEE_THRESHOLD, releasedBy } } : {}) })}\n`,
      );
    }
    if (!auditPassed) process.exitCode = 1;
  } finally {
    await stopAll();
  }
}

/** The standing publication's exclusions of a round: contributor index → reason (Unrevealed, Duplicate, …). */
async function excludedContributors(
  deployment: Deployment,
  reader: ReturnType<typeof chainReader>,
  roundId: bigint,
  addresses: readonly string[],
): Promise<Map<number, string>> {
  const round = await readRound(deployment, reader, roundId);
  const commitments = await readCommitments(reader, deployment, roundId);
  const reasons = await readReasons(reader, deployment, roundId, round.publication, commitments.length);
  const excluded = new Map<number, string>();
  for (const c of commitments) {
    const i = addresses.findIndex((a) => sameAddress(a, c.contributor));
    if (i >= 0 && reasons[c.index] !== 0) excluded.set(i, EXCLUSION_REASON_NAMES[reasons[c.index]]);
  }
  return excluded;
}

function printTable(
  out: Console,
  phi: number[][],
  royalties: string[][],
  accuracies: number[],
  indices: number[],
  flagged: number[],
  n: number,
  exclusions: readonly Map<number, string>[],
): void {
  const header = [
    "contributor",
    "behaviour",
    ...phi.map((_, r) => `φ r${r + 1}`),
    ...phi.map((_, r) => `royalty r${r + 1}`),
    "flagged",
    "excluded (why)",
  ];
  const rows = indices.map((i) => [
    `#${i}`,
    behaviourOf(i, n),
    ...phi.map((round) => round[i].toExponential(2)),
    ...royalties.map((round) => (Number(round[i]) / 1e6).toFixed(2)),
    flagged.includes(i) ? "yes" : "",
    exclusions.flatMap((round, r) => (round.has(i) ? [`r${r + 1}: ${round.get(i)}`] : [])).join(", ") || "–",
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => (c < 2 || c === row.length - 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("  ");
  out.say("");
  out.say(line(header));
  out.say(widths.map((w) => "─".repeat(w)).join("  "));
  for (const row of rows) out.say(line(row));
  const excludedCount = exclusions.reduce((sum, round) => sum + round.size, 0);
  out.say(
    excludedCount === 0
      ? "\nexcluded contributions: none (every commitment was revealed, new, present, well-formed and within policy)"
      : `\nexcluded contributions: ${excludedCount} (reason per round above; an excluded contribution gets no φ, no royalty and forfeits its deposit)`,
  );
  out.say(`global model test accuracy per round: ${accuracies.map((a) => `${(a * 100).toFixed(1)} %`).join(", ")}`);
  out.say(
    "royalties in cROY (pool 1000 per round), each decrypted by its own contributor; φ (noise-flooded) from the custodian's database (committee: member 1's): the public release has only Σφ\n",
  );
}

// `--usage` runs the usage-metered demo instead (scripts/demo/usage-round.ts).
const argv = process.argv.slice(2);
(argv.includes("--usage") ? usageDemo(argv) : argv.includes("--training") ? trainingDemo(argv) : main()).catch(
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
