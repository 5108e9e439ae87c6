// `npm run app`: the whole CipherShare network on this machine for the web app — the embedded fhEVM chain and blob
// store, the contracts, the custodian's keys, program 1 with round 1 open (public scores), the coprocessor and
// custodian services — then the production build of `frontend/` served on a free loopback port, pointed at them.
// Prints the URL; Ctrl-C stops everything.
//   npm run app [-- --home <dir>] [-- --port <n>] [-- --private-scores] [-- --commit-period <seconds>]
import { join, resolve } from "node:path";
import { rmSync } from "node:fs";
import { freeLoopbackPort, serveWebApp } from "./webServer";
import { startAppServices } from "./services";

function valueOf(argv: readonly string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at >= 0 ? argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help")) {
    process.stdout.write(
      "Usage: npm run app [-- --home <dir>] [-- --port <n>] [-- --private-scores] [-- --commit-period <s>]\n" +
        "  Starts the local chain, blob store, coprocessor and custodian, and serves the web app.\n" +
        "  --home   workspace (default .ciphershare/app, wiped at start)\n",
    );
    return;
  }
  const home = resolve(valueOf(argv, "--home") ?? join(".ciphershare", "app"));
  rmSync(home, { recursive: true, force: true });
  const port = Number(valueOf(argv, "--port") ?? (await freeLoopbackPort()));
  const origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`CipherShare: starting the local network in ${home}…`);
  const services = await startAppServices({
    home,
    allowedOrigins: origins,
    publicScores: !argv.includes("--private-scores"),
    commitPeriod: Number(valueOf(argv, "--commit-period") ?? 3600),
    log: say,
  });
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

main().catch((error: unknown) => {
  process.stderr.write(`app: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
