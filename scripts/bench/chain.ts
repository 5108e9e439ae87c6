// `npm run bench:chain [-- --json]`: gas and fhEVM HCU of CipherShare's contracts on the in-process Hardhat chain
// (fhEVM mock). Finds the largest settlement batch that fits the HCU limits by measurement, and writes the
// numbers to test/contracts/gas-snapshot.json. With --json the last stdout line is one JSON object.
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Signer, TransactionReceipt } from "ethers";
import hre from "hardhat";
import {
  advanceTime,
  deployCipherShare,
  encryptAmount,
  encryptShares,
  ensureFhevmMock,
  impersonatedSigners,
  inputsHashOf,
  latestTimestamp,
  signRegistration,
  type CipherShareDeployment,
} from "../lib/chain";

const { ethers, fhevm } = hre;
const json = process.argv.includes("--json");
const log = (line: string): void => console.log(json ? `# ${line}` : line);

/** Per-transaction limits of the fhEVM host chain (HCULimit.sol). */
const HCU_PER_TX = 20_000_000;
const HCU_DEPTH_PER_TX = 5_000_000;
/** The blob store is content-addressed by ciphertext hash: the URI only locates the store. */
const STORE_URI = "https://blobs.ciphershare.dev";
/** A per-blob IPFS URI (CIDv1), to show what each URI byte costs. */
const IPFS_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
const CROWD = 320;
const COMMIT_PERIOD = 3600;
const DISPUTE_WINDOW = 60;
const SHARE = 1_000n;

const gasOf = (receipt: TransactionReceipt | null): number => Number(receipt!.gasUsed);

interface Settlement {
  size: number;
  gas: number;
  hcu: number;
  depth: number;
}

async function main(): Promise<void> {
  await ensureFhevmMock();
  const [network, coprocessor, custodian, relayer, gasless] = await ethers.getSigners();
  const d = await deployCipherShare(network);
  const distributorAddress = await d.distributor.getAddress();

  log("registering and committing a crowd of contributors…");
  const crowd = await impersonatedSigners(CROWD, 7);
  await d.rounds
    .connect(network)
    .createProgram(coprocessor.address, custodian.address, ethers.id("pk"), 1, await d.token.getAddress());
  const roundId = await openRound(d, network);
  const registerGas = gasOf(await (await d.rounds.connect(crowd[0]).register("ipfs://profile.json")).wait());
  const deadline = (await latestTimestamp()) + 600n;
  const signature = await signRegistration(d.rounds, gasless, "ipfs://profile.json", deadline);
  const gaslessRegisterGas = gasOf(
    await (
      await d.rounds.connect(relayer).registerWithSignature(gasless.address, "ipfs://profile.json", deadline, signature)
    ).wait(),
  );
  const hashes: string[] = [];
  let commitGas = 0;
  let commitGasIpfsUri = 0;
  for (const [i, member] of crowd.entries()) {
    if (i > 0) await (await d.rounds.connect(member).register("")).wait();
    const hash = ethers.id(`update-${i}`);
    hashes.push(hash);
    const uri = i % 2 === 0 ? STORE_URI : IPFS_URI;
    const gas = gasOf(await (await d.rounds.connect(member).commitContribution(roundId, hash, 600, uri)).wait());
    if (uri === STORE_URI) commitGas = Math.max(commitGas, gas);
    else commitGasIpfsUri = Math.max(commitGasIpfsUri, gas);
  }
  log(
    `commitContribution: ${commitGas} gas (${STORE_URI.length}-byte URI), ${commitGasIpfsUri} gas (${IPFS_URI.length}-byte URI)`,
  );

  await advanceTime(COMMIT_PERIOD + 1);
  await (await d.rounds.closeRound(roundId)).wait();
  const publishGas = gasOf(
    await (
      await d.rounds
        .connect(coprocessor)
        .publishResults(roundId, ethers.id("aggregate"), ethers.id("scores"), inputsHashOf(hashes), [])
    ).wait(),
  );
  await advanceTime(DISPUTE_WINDOW + 1);
  await (await d.rounds.finalizeRound(roundId)).wait();
  log(`publishResults over ${CROWD} commitments: ${publishGas} gas`);

  const fund = await fundPool(d, roundId, network, SHARE * BigInt(CROWD));
  log(`fundPool: ${fund.gas} gas, ${fund.hcu} HCU`);

  let next = 0;
  const settle = async (size: number): Promise<Settlement | undefined> => {
    if (next + size > CROWD) throw new Error(`the crowd of ${CROWD} is too small for a batch of ${size}`);
    const who = crowd.slice(next, next + size);
    const encrypted = await encryptShares(
      distributorAddress,
      custodian.address,
      who.map(() => SHARE),
    );
    const addresses = await Promise.all(who.map((w: Signer) => w.getAddress()));
    try {
      const tx = await d.distributor
        .connect(custodian)
        .settle(roundId, addresses, encrypted.handles, encrypted.inputProofs);
      const receipt = await tx.wait();
      const hcu = fhevm.computeTransactionHCU(receipt!);
      next += size;
      return { size, gas: gasOf(receipt), hcu: hcu.globalHCU, depth: hcu.maxHCUDepth };
    } catch (error) {
      if (exceedsHcuLimit(error)) return undefined;
      throw error;
    }
  };

  log("measuring settlement batches…");
  const small = (await settle(16))!;
  const medium = (await settle(48))!;
  const hcuPerContributor = (medium.hcu - small.hcu) / (medium.size - small.size);
  const gasPerContributor = (medium.gas - small.gas) / (medium.size - small.size);
  const fixedHcu = small.hcu - hcuPerContributor * small.size;
  let size = Math.floor((HCU_PER_TX - 1 - fixedHcu) / hcuPerContributor);
  log(`  ${hcuPerContributor} HCU per share, ${fixedHcu} per batch: predicted largest batch ${size}`);
  let largest = await settle(size);
  while (largest === undefined && size > 1) largest = await settle(--size);
  for (;;) {
    const bigger = await settle(size + 1);
    if (bigger === undefined) break;
    largest = bigger;
    size += 1;
  }
  const best = largest!;
  log(
    `  largest batch that fits: ${best.size} shares, ${best.hcu} HCU (limit ${HCU_PER_TX}), depth ${best.depth} (limit ${HCU_DEPTH_PER_TX}), ${best.gas} gas`,
  );
  log(`  a batch of ${best.size + 1} reverts with HCUTransactionLimitExceeded`);

  const claimer = crowd[0];
  const claimReceipt = await (await d.distributor.connect(claimer).claim(roundId)).wait();
  const claimGas = gasOf(claimReceipt);
  const claimHcu = fhevm.computeTransactionHCU(claimReceipt!);
  log(`claim: ${claimGas} gas, ${claimHcu.globalHCU} HCU`);

  const result = {
    commitGas,
    commitGasIpfsUri,
    commitGasPerUriByte: (commitGasIpfsUri - commitGas) / (IPFS_URI.length - STORE_URI.length),
    registerGas,
    gaslessRegisterGas,
    publishResultsGas: publishGas,
    publishResultsCommitments: CROWD,
    fundPoolGas: fund.gas,
    fundPoolHcu: fund.hcu,
    settleBatchSize: best.size,
    settleHcuPerContributor: hcuPerContributor,
    settleHcuPerBatch: fixedHcu,
    settleHcuAtBatchSize: best.hcu,
    settleHcuDepthAtBatchSize: best.depth,
    settleGasAtBatchSize: best.gas,
    settleGasPerContributor: gasPerContributor,
    claimGas,
    claimHcu: claimHcu.globalHCU,
    hcuLimitPerTx: HCU_PER_TX,
    hcuDepthLimitPerTx: HCU_DEPTH_PER_TX,
  };
  const snapshot = path.join(__dirname, "..", "..", "test", "contracts", "gas-snapshot.json");
  writeFileSync(snapshot, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), snapshot)}`);
  if (json) console.log(JSON.stringify(result));
  else console.table(result);
}

/** Whether `error` is the fhEVM host's HCU limit revert (by name, or by selector when the ABI is unknown). */
function exceedsHcuLimit(error: unknown): boolean {
  const names = ["HCUTransactionLimitExceeded", "HCUTransactionDepthLimitExceeded"];
  const selectors = names.map((name) => ethers.id(`${name}()`).slice(0, 10));
  const text = `${String(error)} ${JSON.stringify(error, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))}`;
  return [...names, ...selectors].some((marker) => text.includes(marker));
}

async function openRound(d: CipherShareDeployment, network: Signer): Promise<bigint> {
  const deadline = (await latestTimestamp()) + BigInt(COMMIT_PERIOD);
  await (await d.rounds.connect(network).openRound(1n, ethers.id("base"), deadline, DISPUTE_WINDOW)).wait();
  return d.rounds.roundCount();
}

async function fundPool(
  d: CipherShareDeployment,
  roundId: bigint,
  funder: Signer,
  amount: bigint,
): Promise<{ gas: number; hcu: number }> {
  const funderAddress = await funder.getAddress();
  const tokenAddress = await d.token.getAddress();
  const distributorAddress = await d.distributor.getAddress();
  await (await d.underlying.mint(funderAddress, amount)).wait();
  await (await d.underlying.connect(funder).approve(tokenAddress, amount)).wait();
  await (await d.token.connect(funder).wrap(funderAddress, amount)).wait();
  await (await d.token.connect(funder).setOperator(distributorAddress, (await latestTimestamp()) + 3600n)).wait();
  const input = await encryptAmount(distributorAddress, funderAddress, amount);
  const receipt = await (await d.distributor.connect(funder).fundPool(roundId, input.handle, input.inputProof)).wait();
  return { gas: gasOf(receipt), hcu: fhevm.computeTransactionHCU(receipt!).globalHCU };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
