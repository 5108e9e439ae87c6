// `npm run demo -- --usage`: a usage-metered royalty round (issue 15, docs/usage.md) on the embedded default. An AIGC
// scenario: 6 artists whose styles trained a generative model (MNIST digits stand in for the styles), a stream of
// 10,000 generations prompted in their styles with an uneven popularity — artist 5 is never used — each attributed
// by the operator's embedding model (cosine similarity to the style embeddings). Every role is its own `ciphershare`
// process: the operator encrypts and reports (three malformed attributions excluded with their reason), the
// coprocessor sums the batches into one totals ciphertext, the custodian releases only those totals after
// finalization and settles the funded pool on-chain to the artists the program's terms name (never to the operator),
// each artist claims its own encrypted royalty, the auditor re-derives everything and checks Σ shares = pool.
// Royalties track usage; the unused artist earns nothing.
//   npm run demo -- --usage [--json] [--home <dir>] [--generations 10000]
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import { parseAuditVerdict } from "@ciphershare/protocol/audit/verdict";
import { startEmbeddedNetwork } from "@ciphershare/coprocessor/roles/embedded-network";
import { mnistUsageStream } from "@ciphershare/coprocessor/simulation/usage-stream";
import { plaintextUsageTotals } from "@ciphershare/coprocessor/usage/attribution";
import { runCiphershare } from "../lib/cli-process";

const PASSPHRASE = "demo custodian passphrase";
const ENV = { CIPHERSHARE_CUSTODIAN_PASSPHRASE: PASSPHRASE };
const ARTISTS = 6;
const UNUSED = 5;
/** Artist i's style is this MNIST digit; the unused artist's digit (1) is the one least like the others. */
const STYLE_DIGITS = [0, 2, 3, 4, 7, 1];
const POPULARITY = [4, 3, 2, 1.5, 1, 0];
const POOL = 1_000_000n;
/** The artists are contributors 0 to 5 (development accounts 4 to 9); the operator is account 19. */
const ARTIST_FIRST_ACCOUNT = 4;

interface Options {
  json: boolean;
  home: string;
  generations: number;
}

function parseArguments(argv: string[]): Options {
  const parsed = new Command()
    .name("npm run demo -- --usage")
    .option("--usage", "the usage-metered demo (this one)")
    .option("--json", "the last stdout line is the result as JSON (and nothing else is printed on stdout)")
    .option("--home <dir>", "workspace (wiped at start)", join(".ciphershare", "demo-usage"))
    .option("--generations <n>", "generations in the period", "10000")
    .parse(argv, { from: "user" })
    .opts<{ json?: boolean; home: string; generations: string }>();
  const generations = Number(parsed.generations);
  if (!Number.isSafeInteger(generations) || generations < 100) {
    process.stderr.write("demo: --generations must be an integer ≥ 100\n");
    process.exit(2);
  }
  return { json: parsed.json === true, home: resolve(parsed.home), generations };
}

export async function usageDemo(argv: string[]): Promise<void> {
  const options = parseArguments(argv);
  const say = (line: string) => {
    if (!options.json) process.stdout.write(`${line}\n`);
  };
  const cli = async <T>(args: string[]): Promise<T> => {
    const run = await runCiphershare([...args, "--home", options.home, "--json"], { env: ENV });
    if (run.code !== 0) {
      throw new Error(`ciphershare ${args.slice(0, 2).join(" ")} failed (exit ${run.code}): ${run.stderr.trim()}`);
    }
    return run.json as T;
  };
  const started = performance.now();
  say(`CipherShare — a usage-metered royalty round: ${ARTISTS} artists, ${options.generations} generations\n`);
  rmSync(options.home, { recursive: true, force: true });
  mkdirSync(options.home, { recursive: true });
  const network = await startEmbeddedNetwork(options.home);
  try {
    say(`• local chain ${network.chain.rpcUrl} (fhEVM mock), blob store ${network.blobs.url}`);
    await cli(["network", "deploy"]);
    const keys = await cli<{ publicBundleHash: string; bundleBytes: number }>(["custodian", "keygen"]);
    say(
      `• custodian published the program key ${keys.publicBundleHash.slice(0, 12)}… (${(keys.bundleBytes / 1e6).toFixed(0)} MB)`,
    );
    const artistAccounts = Array.from({ length: ARTISTS }, (_, i) => String(ARTIST_FIRST_ACCOUNT + i));
    // A usage program, created bound to its terms' hash and given the terms in the same command.
    const { programId, ...terms } = await cli<{ programId: string; termsHash: string }>([
      "network",
      "create-program",
      "--kind",
      "usage",
      "--min-contributors",
      "1",
      "--artist-accounts",
      artistAccounts.join(","),
      "--min-generations",
      "100",
    ]);
    await cli(["custodian", "accept", "--program", programId, "--force"]);
    say(
      `• network created program ${programId} with usage terms ${terms.termsHash.slice(0, 12)}… (${ARTISTS} artists in attribution order, the operator, cap 1, ≥ 100 generations); the custodian accepted it (one operator per period: crowd of 1, forced)`,
    );
    await cli(["network", "open-round", "--program", programId]);
    await cli(["network", "fund", "--round", "1", "--amount", POOL.toString()]);
    say(`• network funded the period's pool: ${POOL} units (public)`);

    const stream = mnistUsageStream({
      artists: ARTISTS,
      unused: UNUSED,
      generations: options.generations,
      seed: 7,
      digits: STYLE_DIGITS,
      popularity: POPULARITY,
    });
    const rows: Float64Array[] = [...stream.vectors];
    // The operator's attribution method misbehaves three times: each row is excluded with its reason.
    rows.splice(100, 0, Float64Array.from([0.5, -0.2, 0, 0, 0, 0]));
    rows.splice(200, 0, Float64Array.from([NaN, 0, 0, 0, 0, 0]));
    rows.splice(300, 0, Float64Array.from([0.9, 0.8, 0, 0, 0, 0]));
    const values = new Float64Array(rows.length * ARTISTS);
    rows.forEach((row, g) => values.set(row, g * ARTISTS));
    const file = join(options.home, "usage.npy");
    writeFileSync(file, serializeNpy(values, [rows.length, ARTISTS]));
    const prompts = new Array<number>(ARTISTS).fill(0);
    for (const p of stream.prompts) prompts[p]++;
    say(
      `• operator: ${options.generations} generations prompted in the artists' styles (MNIST digits ${STYLE_DIGITS.join(", ")}), attributed by cosine similarity; ${stream.discarded} failed prompts dropped`,
    );

    await cli(["operator", "register"]);
    const reported = await cli<{
      generations: number;
      batches: unknown[];
      uploadBytes: number;
      excluded: Record<string, number>;
      firstExclusions: { generation: number; reason: string; details: string }[];
    }>(["operator", "report", "--round", "1", "--attributions", file, "--reveal", "--advance-time"]);
    say(
      `• operator (own process): encrypted ${reported.generations} generations in ${reported.batches.length} batches (${(reported.uploadBytes / 1e6).toFixed(1)} MB), committed and revealed the report`,
    );
    for (const e of reported.firstExclusions)
      say(`    excluded generation ${e.generation}: ${e.reason} (${e.details})`);
    await cli(["network", "close", "--round", "1", "--advance-time"]);

    const published = await cli<{ totals: string; record: { generations: number } }>([
      "usage",
      "aggregate",
      "--round",
      "1",
    ]);
    say(`• coprocessor (own process, no key): one totals ciphertext ${published.totals.slice(0, 12)}… published`);
    await cli(["network", "finalize", "--round", "1", "--advance-time"]);
    const released = await cli<{ totals: number[]; shares: string[]; releaseHash: string; settled: boolean }>([
      "usage",
      "release",
      "--round",
      "1",
    ]);
    say(
      `• custodian (own process): decrypted only the committed totals (flooded), anchored ${released.releaseHash.slice(0, 12)}…, settled one encrypted share per artist on-chain`,
    );
    const claimed: string[] = [];
    const ownUsage: number[] = [];
    for (let i = 0; i < ARTISTS; i++) {
      const own = await cli<{ total: number }>(["contributor", "usage", "--round", "1", "--index", String(i)]);
      ownUsage.push(own.total);
      const claim = await cli<{ claimed: string }>(["contributor", "claim", "--round", "1", "--index", String(i)]);
      claimed.push(String(claim.claimed));
    }
    say(
      `• each artist (own process) decrypted its own usage total (sealed on-chain to it alone) and claimed its royalty, decrypting only its own share`,
    );
    const auditRun = await runCiphershare(["usage", "audit", "--round", "1", "--home", options.home, "--json"], {
      env: ENV,
    });
    const verdict = parseAuditVerdict(auditRun.json);
    say(
      `• auditor (own process): ${verdict.passed ? "PASSED" : "FAILED"} (${verdict.checks.map((c) => c.name).join(", ")})`,
    );

    const expected = plaintextUsageTotals(stream.vectors, ARTISTS);
    say(
      "\nartist  style  prompts  usage (released)  usage (own, sealed)  usage (plaintext)  royalty (of 1,000,000)  claimed on-chain",
    );
    for (let i = 0; i < ARTISTS; i++) {
      say(
        `${String(i).padStart(6)}  ${String(STYLE_DIGITS[i]).padStart(5)}  ${String(prompts[i]).padStart(7)}  ` +
          `${(Math.abs(released.totals[i]) < 5e-5 ? 0 : released.totals[i]).toFixed(4).padStart(16)}  ${ownUsage[i].toFixed(4).padStart(19)}  ${expected[i].toFixed(4).padStart(17)}  ${released.shares[i].padStart(22)}  ${claimed[i].padStart(16)}`,
      );
    }
    say(
      `\nexcluded: ${Object.entries(reported.excluded)
        .filter(([, n]) => n > 0)
        .map(([reason, n]) => `${n} ${reason}`)
        .join(", ")}; ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({
          artists: ARTISTS,
          generations: reported.generations,
          excluded: reported.excluded,
          usage: released.totals,
          ownUsage,
          royalties: released.shares,
          claimed,
          settled: released.settled,
          auditPassed: verdict.passed,
        })}\n`,
      );
    }
    if (!verdict.passed) process.exitCode = 1;
  } finally {
    await network.stop();
  }
}
