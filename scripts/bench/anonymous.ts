// The anonymous-claims part of `npm run bench:chain`: gas of `sealPayout`, and HCU and gas of claims that scan a
// round's sealed entries (AnonymousPayouts.claim), per entry and at the largest paying chunk that fits one transaction.
import type { Signer, TransactionReceipt } from "ethers";
import hre from "hardhat";
import type { CipherShareDeployment } from "../lib/chain";

const { ethers, fhevm } = hre;

/** A scanning claim's measurements (`undefined` when the transaction exceeds an fhEVM HCU limit). */
export interface ScanMeasurement {
  size: number;
  gas: number;
  /** Gas without the calldata's intrinsic cost (which depends on the public `to` only). */
  execution: number;
  hcu: number;
  depth: number;
}

export interface AnonymousClaimsBench {
  sealPayoutGas: number;
  /** HCU and gas a scanned entry adds to a claim. */
  anonClaimHcuPerEntry: number;
  anonClaimGasPerEntry: number;
  /** HCU of a paying claim beyond its entries (pool guard, lane merge, one confidential transfer). */
  anonClaimHcuFixed: number;
  /** Most entries the paying chunk of a claim can scan in one transaction. */
  anonClaimMaxEntriesPerTx: number;
  anonClaimHcuAtMaxEntries: number;
  anonClaimHcuDepthAtMaxEntries: number;
  anonClaimGasAtMaxEntries: number;
  /** Most entries a scan-only chunk (not the last) can scan in one transaction. */
  anonScanMaxEntriesPerTx: number;
  /** Execution gas (without calldata) and HCU of a hit minus those of a miss (0 when indistinguishable). */
  anonClaimHitMissGasDelta: number;
  anonClaimHitMissHcuDelta: number;
}

/** What the bench's round driver provides: a finalized round of `members`, each sealing in its commit phase. */
export type SealedRoundDriver = (
  members: readonly Signer[],
  seal: (member: Signer, roundId: bigint) => Promise<number>,
) => Promise<bigint>;

/**
 * Seals a fresh address for each of `members` in one round (`driveRound` commits, reveals, publishes and finalizes;
 * `settleAll` funds and settles every member with `share`), then measures paying claims scanning `k` entries (the
 * first chunk scans the other entries without paying) and scan-only chunks, stepping to the HCU limits.
 */
export async function benchAnonymousClaims(
  d: CipherShareDeployment,
  members: readonly Signer[],
  driveRound: SealedRoundDriver,
  settleAll: (roundId: bigint) => Promise<void>,
  log: (line: string) => void,
  hcuLimitError: (error: unknown) => string | undefined,
): Promise<AnonymousClaimsBench> {
  const anonymousAddress = await d.anonymousPayouts.getAddress();
  const payTo = new Map<Signer, string>();
  const sealGas: number[] = [];
  const seal = async (member: Signer, roundId: bigint): Promise<number> => {
    const address = ethers.Wallet.createRandom().address;
    payTo.set(member, address);
    const input = await fhevm
      .createEncryptedInput(anonymousAddress, await member.getAddress())
      .addAddress(address)
      .encrypt();
    const tx = await d.anonymousPayouts.connect(member).sealPayout(roundId, input.handles[0], input.inputProof);
    const gas = Number((await tx.wait())!.gasUsed);
    sealGas.push(gas);
    return gas;
  };
  const roundId = await driveRound(members, seal);
  await settleAll(roundId);
  const n = members.length;
  const sealPayoutGas = Math.max(...sealGas.slice(1)); // the first seal of a round also creates the entries array
  log(`sealPayout: ${sealPayoutGas} gas (the round's first: ${sealGas[0]}); ${n} sealed entries`);

  const measure = async (send: () => Promise<{ data: string; wait(): Promise<TransactionReceipt | null> }>) => {
    try {
      const tx = await send();
      const receipt = (await tx.wait())!;
      const hcu = fhevm.computeTransactionHCU(receipt);
      // Execution gas: the calldata's cost depends on the public `to`'s zero bytes only (EIP-2028).
      const execution = Number(receipt.gasUsed) - calldataGas(tx.data);
      return { gas: Number(receipt.gasUsed), execution, hcu: hcu.globalHCU, depth: hcu.maxHCUDepth };
    } catch (error) {
      if (hcuLimitError(error) === undefined) throw error;
      return undefined;
    }
  };
  const claim = (to: string, maxEntries: number) =>
    d.anonymousPayouts.claim(to, [roundId], BigInt(maxEntries), { gasLimit: 2 ** 24 });
  /** A paying chunk of `k` entries: a fresh `to`, whose first chunk scans the other n − k entries. */
  const paying = async (k: number, to = ethers.Wallet.createRandom().address): Promise<ScanMeasurement | undefined> => {
    if (k < n) await (await claim(to, n - k)).wait();
    const m = await measure(() => claim(to, k));
    return m && { size: k, ...m };
  };
  const scanOnly = async (k: number): Promise<ScanMeasurement | undefined> => {
    const m = await measure(() => claim(ethers.Wallet.createRandom().address, k));
    return m && { size: k, ...m };
  };

  const small = (await paying(16))!;
  const medium = (await paying(48))!;
  const perEntryHcu = (medium.hcu - small.hcu) / (medium.size - small.size);
  const perEntryGas = (medium.gas - small.gas) / (medium.size - small.size);
  const fixedHcu = small.hcu - perEntryHcu * small.size;
  const largestPaying = await largest(paying, Math.floor((20_000_000 - 1 - fixedHcu) / perEntryHcu), n);
  log(
    `  claim: ${perEntryHcu} HCU and ${perEntryGas.toFixed(0)} gas per entry, ${fixedHcu} HCU per claim; the paying chunk fits ${largestPaying.size} entries (${largestPaying.hcu} HCU, depth ${largestPaying.depth}, ${largestPaying.gas} gas)`,
  );
  const largestScan = await largest(scanOnly, Math.floor((20_000_000 - 1) / perEntryHcu), n - 1);
  log(`  a scan-only chunk fits ${largestScan.size} entries (${largestScan.hcu} HCU)`);

  // Hit and miss, each a paying chunk over the round's last 100 entries (the hit's entry is the last one).
  const hit = (await paying(100, payTo.get(members[n - 1])))!;
  const miss = (await paying(100))!;
  log(
    `  hit vs miss, paying chunks of 100 entries: ${hit.execution - miss.execution} execution gas apart, ${hit.hcu - miss.hcu} HCU apart`,
  );

  return {
    sealPayoutGas,
    anonClaimHcuPerEntry: perEntryHcu,
    anonClaimGasPerEntry: perEntryGas,
    anonClaimHcuFixed: fixedHcu,
    anonClaimMaxEntriesPerTx: largestPaying.size,
    anonClaimHcuAtMaxEntries: largestPaying.hcu,
    anonClaimHcuDepthAtMaxEntries: largestPaying.depth,
    anonClaimGasAtMaxEntries: largestPaying.gas,
    anonScanMaxEntriesPerTx: largestScan.size,
    anonClaimHitMissGasDelta: hit.execution - miss.execution,
    anonClaimHitMissHcuDelta: hit.hcu - miss.hcu,
  };
}

/** Intrinsic gas of calldata (EIP-2028): 4 per zero byte, 16 per other byte. */
const calldataGas = (data: string): number =>
  ethers.getBytes(data).reduce((gas, byte) => gas + (byte === 0 ? 4 : 16), 0);

/** The largest size `run` accepts, starting from `predicted`: down until one passes, up until the next fails. */
async function largest(
  run: (size: number) => Promise<ScanMeasurement | undefined>,
  predicted: number,
  ceiling: number,
): Promise<ScanMeasurement> {
  let size = Math.min(predicted, ceiling);
  let best = await run(size);
  while (best === undefined && size > 1) best = await run(--size);
  while (size < ceiling) {
    const bigger = await run(size + 1);
    if (bigger === undefined) break;
    best = bigger;
    size += 1;
  }
  if (size >= ceiling) throw new Error(`every chunk up to ${ceiling} entries fit: seal more entries to find the limit`);
  return best!;
}
