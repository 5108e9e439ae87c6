import { keccak256, toUtf8Bytes } from "ethers";

import { ethersTransactionDriver } from "@ciphershare/coprocessor/chain/transactionDriver";
import { runOnChainStep, type TransactionDriver } from "@ciphershare/coprocessor/state/journal";
import type { Hex } from "@ciphershare/protocol/hex";
import type { StateStore, StepRecord } from "@ciphershare/coprocessor/state/store";
import type { ChainProbeFixture } from "../chain/chainProbeFixture";

export type CrashPoint = "none" | "in-sign" | "before-broadcast" | "after-broadcast";

/**
 * The on-chain step used by the journal tests: `ChainProbe.store(encrypted value)` from the fixture's
 * wallet, run through the journal. `crashPoint` SIGKILLs this very process at that point, as a power
 * cut or an OOM kill would.
 */
export function storeValueStep(
  store: StateStore,
  fixture: ChainProbeFixture,
  round: number,
  value: bigint,
  crashPoint: CrashPoint = "none",
): Promise<StepRecord> {
  const probeAddress = fixture.probe.target as string;
  const driver = ethersTransactionDriver(fixture.wallet, async () => {
    const input = await fixture.client.encryptUint64(probeAddress, fixture.wallet.address, [value]);
    return fixture.probe.getFunction("store").populateTransaction(input.handles[0], input.inputProof);
  });
  const crashing: TransactionDriver = {
    ...driver,
    sign: async () => {
      const signed = await driver.sign();
      if (crashPoint === "in-sign") process.kill(process.pid, "SIGKILL");
      return signed;
    },
    broadcast: async (raw) => {
      if (crashPoint === "before-broadcast") process.kill(process.pid, "SIGKILL");
      await driver.broadcast(raw);
      if (crashPoint === "after-broadcast") process.kill(process.pid, "SIGKILL");
    },
  };
  const inputHash = keccak256(toUtf8Bytes(`store:${value}`)) as Hex;
  return runOnChainStep(store, { round, step: "store-value", inputHash }, crashing);
}
