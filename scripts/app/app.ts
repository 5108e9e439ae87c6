// `npm run app`: the whole CipherShare network on this machine for the web app — the embedded fhEVM chain and blob
// store, the contracts, the custodian committee's keys, program 1 (accepted by its committee) with round 1 open (public
// scores), the coprocessor and custodian services — then the production build of `frontend/` served on a free loopback port, pointed at them.
// Prints the URL; Ctrl-C stops everything.
// Custody is a 2-of-3 committee (three `custodian run --member K` processes) unless `--single-custodian`.
//   npm run app [-- --home <dir>] [-- --port <n>] [-- --private-scores] [-- --commit-period <seconds>]
//               [-- --reveal-window <seconds>] [-- --single-custodian]
import { join, resolve } from "node:path";
import { rmSync } from "node:fs";
import { Command } from "commander";
import { freeLoopbackPort } from "@ciphershare/coprocessor/process/ports";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { serveWebApp } from "./webServer";
import { startAppServices } from "./services";

interface AppOptions {
  home: string;
  port?: string;
  privateScores?: boolean;
  commitPeriod: string;
  revealWindow: string;
  singleCustodian?: boolean;
  committee?: boolean;
}

function integer(value: string, flag: string, min: number): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    throw new InvalidInputError(`${flag} must be an integer ≥ ${min}.`, { details: `${flag} ${value}` });
  }
  return parsed;
}

async function main(options: AppOptions): Promise<void> {
  const home = resolve(options.home);
  rmSync(home, { recursive: true, force: true });
  const port = options.port === undefined ? await freeLoopbackPort() : integer(options.port, "--port", 1);
  const origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`CipherShare: starting the local network in ${home}…`);
  const services = await startAppServices({
    home,
    allowedOrigins: origins,
    publicScores: !options.privateScores,
    commitPeriod: integer(options.commitPeriod, "--commit-period", 1),
    revealWindow: integer(options.revealWindow, "--reveal-window", 1),
    committee: options.singleCustodian !== true,
    log: say,
  });
  if (services.committee) {
    say(
      `custody: a ${services.committee.threshold}-of-${services.committee.members.length} committee, members ${services.committee.members.join(", ")} each its own \`custodian run --member K\` process`,
    );
  }
  say(`program ${services.programId}, round ${services.roundId} open; building the web app…`);
  const web = await serveWebApp(services, port);
  say("");
  say(`  CipherShare web app:  ${web.url}`);
  say(`  chain (JSON-RPC):     ${services.rpcUrl}  (chain id 31337)`);
  say(`  blob store:           ${services.blobUrl}`);
  say(`  workspace:            ${home}  (CLI: npx ciphershare … --home ${home})`);
  say("  Ctrl-C stops everything.");
  say("");
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say("stopping…");
    await web.close();
    await services.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

const program = new Command()
  .name("npm run app --")
  .description("Starts the local chain, blob store, coprocessor and custodian, and serves the web app.")
  .option("--home <dir>", "workspace (wiped at start)", join(".ciphershare", "app"))
  .option("--port <n>", "port of the web app (default: a free one)")
  .option("--private-scores", "open round 1 with the private score release (only Σφ)")
  .option("--commit-period <seconds>", "seconds contributors have to commit to round 1 (sealed hashes)", "3600")
  .option("--reveal-window <seconds>", "seconds after the commit deadline to reveal and upload", "1800")
  .option("--single-custodian", "one custodian holding the whole CKKS key instead of the 2-of-3 committee")
  .option("--committee", "a 2-of-3 custodian committee, three member processes (the default; kept for scripts)")
  .parse(process.argv);

main(program.opts<AppOptions>()).catch((error: unknown) => {
  process.stderr.write(`app: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
