// Run as a separate process by journal.test.ts: opens the state database, runs the store-value step and
// kills itself at the crash point given on the command line.
import { StateStore } from "@ciphershare/coprocessor/state/store";
import type { Address } from "@ciphershare/protocol/hex";
import { connectChainProbe } from "../chain/chainProbeFixture";
import { storeValueStep, type CrashPoint } from "./storeValueStep";

async function main(): Promise<void> {
  const [databasePath, rpcUrl, probeAddress, round, value, crashPoint] = process.argv.slice(2);
  const store = StateStore.open(databasePath);
  const fixture = await connectChainProbe(rpcUrl, 2, probeAddress as Address);
  await storeValueStep(store, fixture, Number(round), BigInt(value), crashPoint as CrashPoint);
  fixture.close();
  store.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
