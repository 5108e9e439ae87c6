import { encodeFunctionData, keccak256, toBytes } from "viem";
import { chainProbeAbi } from "@ciphershare/protocol/chain/abis";
import { signerTransactionDriver } from "@ciphershare/coprocessor/chain/transactionDriver";
import { runOnChainStep, type TransactionDriver } from "@ciphershare/coprocessor/state/journal";
import type { StateStore, StepRecord } from "@ciphershare/coprocessor/state/store";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { ChainProbeFixture } from "../chain/chainProbeFixture";

/** `ChainProbe.store(Enc(value))` with an input proof made for `sender` (the probe refuses any other sender). */
export async function storeCall(
  fixture: ChainProbeFixture,
  value: bigint,
  sender: Address,
): Promise<{ to: Address; data: Hex }> {
  const input = await fixture.client.encryptUint64(fixture.probeAddress, sender, [value]);
  const args = [input.handles[0], input.inputProof] as const;
  return { to: fixture.probeAddress, data: encodeFunctionData({ abi: chainProbeAbi, functionName: "store", args }) };
}

export type CrashPoint = "none" | "in-sign" | "before-broadcast" | "after-broadcast";

/**
 * The on-chain step used by the journal tests: `ChainProbe.store(encrypted value)` from the fixture's
 * account, run through the journal. `crashPoint` SIGKILLs this very process at that point, as a power
 * cut or an OOM kill would.
 */
export function storeValueStep(
  store: StateStore,
  fixture: ChainProbeFixture,
  round: number,
  value: bigint,
  crashPoint: CrashPoint = "none",
): Promise<StepRecord> {
  const driver = signerTransactionDriver(fixture.signer, () => storeCall(fixture, value, fixture.signer.address));
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
  const inputHash = keccak256(toBytes(`store:${value}`));
  return runOnChainStep(store, { round, step: "store-value", inputHash }, crashing);
}
