// `npm run bench:chain [-- --json]`: gas and fhEVM HCU of CipherShare's contracts on the in-process Hardhat chain
// (fhEVM mock). Finds the largest settlement batch that fits the HCU limits by measurement, and writes the
// numbers to test/contracts/gas-snapshot.json. With --json the last stdout line is one JSON object.
import { writeFileSync } from "node:fs";
import { Command } from "commander";
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
const json =
  new Command()
    .name("npm run bench:chain --")
    .option("--json", "the last stdout line is one JSON object")
    .parse(process.argv)
    .opts<{ json?: boolean }>().json === true;
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

/** The HCU limit error the last rejected batch reverted with. */
let lastLimitError = "";

const gasOf = (receipt: TransactionReceipt | null): number => Number(receipt!.gasUsed);

interface Settlement {
  size: number;
  gas: number;
  hcu: number;
  depth: number;
}

async function main(): Promise<void> {
  // tsx loads Hardhat as a library, which (unlike `hardhat run`) does not compile first.
  await hre.run("compile", { quiet: true });
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
    const outcome = await measureBatch(size, () =>
      d.distributor.connect(custodian).settle(roundId, addresses, encrypted.handles, encrypted.inputProofs),
    );
    if (outcome !== undefined) next += size;
    return outcome;
  };

  log("measuring settlement batches…");
  const settlement = await largestBatch(settle, 16, 48);
  const { perItemHcu: hcuPerContributor, perItemGas: gasPerContributor, fixedHcu } = settlement;
  const best = settlement.largest;
  log(
    `  largest batch that fits: ${best.size} shares, ${best.hcu} HCU (limit ${HCU_PER_TX}), depth ${best.depth} (limit ${HCU_DEPTH_PER_TX}), ${best.gas} gas`,
  );
  log(`  a batch of ${best.size + 1} reverts with ${lastLimitError}`);

  const claimer = crowd[0];
  const claimReceipt = await (await d.distributor.connect(claimer).claim(roundId)).wait();
  const claimGas = gasOf(claimReceipt);
  const claimHcu = fhevm.computeTransactionHCU(claimReceipt!);
  log(`claim: ${claimGas} gas, ${claimHcu.globalHCU} HCU`);

  log("baseline: pushing one ERC-7984 transfer per recipient from one balance…");
  const push = await ethers.deployContract("PushPayoutMock", [await d.token.getAddress()], network);
  const pushAddress = await push.getAddress();
  await fundPushBaseline(d, network, pushAddress, SHARE * BigInt(CROWD));
  const recipients = await Promise.all(crowd.map((w: Signer) => w.getAddress()));
  const pushBatch = async (size: number): Promise<Settlement | undefined> => {
    const encrypted = await encryptShares(
      pushAddress,
      network.address,
      recipients.slice(0, size).map(() => 1n),
    );
    return measureBatch(size, () =>
      push.connect(network).payAll(recipients.slice(0, size), encrypted.handles, encrypted.inputProofs),
    );
  };
  const pushed = await largestBatch(pushBatch, 4, 8);
  log(
    `  largest push batch: ${pushed.largest.size} transfers, depth ${pushed.largest.depth} (limit ${HCU_DEPTH_PER_TX}), ${pushed.largest.hcu} HCU; ${pushed.largest.size + 1} revert with ${lastLimitError}`,
  );
  const batchRatio = best.size / pushed.largest.size;
  log(`  pull settlement fits ${batchRatio.toFixed(1)}x more contributors per transaction than push payouts`);

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
    pushPayoutMaxPerTx: pushed.largest.size,
    pushPayoutHcuDepthPerRecipient: pushed.perItemDepth,
    pushPayoutHcuPerRecipient: pushed.perItemHcu,
    settleVsPushBatchRatio: batchRatio,
    hcuLimitPerTx: HCU_PER_TX,
    hcuDepthLimitPerTx: HCU_DEPTH_PER_TX,
  };
  const snapshot = path.join(__dirname, "..", "..", "test", "contracts", "gas-snapshot.json");
  writeFileSync(snapshot, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), snapshot)}`);
  if (json) console.log(JSON.stringify(result));
  else console.table(result);
}

/** Gas and HCU of one batch transaction, or undefined when it exceeds the fhEVM HCU limits. */
async function measureBatch(
  size: number,
  send: () => Promise<{ wait(): Promise<TransactionReceipt | null> }>,
): Promise<Settlement | undefined> {
  try {
    const receipt = await (await send()).wait();
    const hcu = fhevm.computeTransactionHCU(receipt!);
    return { size, gas: gasOf(receipt), hcu: hcu.globalHCU, depth: hcu.maxHCUDepth };
  } catch (error) {
    const limit = hcuLimitError(error);
    if (limit === undefined) throw error;
    lastLimitError = limit;
    return undefined;
  }
}

interface BatchLimit {
  largest: Settlement;
  perItemHcu: number;
  perItemDepth: number;
  perItemGas: number;
  fixedHcu: number;
}

/**
 * The largest batch `run` accepts: predicts it from two measured sizes (HCU and depth grow linearly), then steps
 * down until a batch passes and up until the next one fails. `run` consumes whatever it settles.
 */
async function largestBatch(
  run: (size: number) => Promise<Settlement | undefined>,
  smallSize: number,
  mediumSize: number,
): Promise<BatchLimit> {
  const small = (await run(smallSize))!;
  const medium = (await run(mediumSize))!;
  const items = medium.size - small.size;
  const perItemHcu = (medium.hcu - small.hcu) / items;
  const perItemDepth = (medium.depth - small.depth) / items;
  const perItemGas = (medium.gas - small.gas) / items;
  const fixedHcu = small.hcu - perItemHcu * small.size;
  const fixedDepth = small.depth - perItemDepth * small.size;
  const byTotal = Math.floor((HCU_PER_TX - 1 - fixedHcu) / perItemHcu);
  const byDepth = perItemDepth > 0 ? Math.floor((HCU_DEPTH_PER_TX - 1 - fixedDepth) / perItemDepth) : Infinity;
  let size = Math.min(byTotal, byDepth);
  log(`  ${perItemHcu} HCU (depth ${perItemDepth}) per item, ${fixedHcu} per batch: predicted largest batch ${size}`);
  let largest = await run(size);
  while (largest === undefined && size > 1) largest = await run(--size);
  for (;;) {
    const bigger = await run(size + 1);
    if (bigger === undefined) break;
    largest = bigger;
    size += 1;
  }
  return { largest: largest!, perItemHcu, perItemDepth, perItemGas, fixedHcu };
}

async function fundPushBaseline(
  d: CipherShareDeployment,
  funder: Signer,
  recipient: string,
  amount: bigint,
): Promise<void> {
  const funderAddress = await funder.getAddress();
  await (await d.underlying.mint(funderAddress, amount)).wait();
  await (await d.underlying.connect(funder).approve(await d.token.getAddress(), amount)).wait();
  await (await d.token.connect(funder).wrap(recipient, amount)).wait();
}

/** The fhEVM host's HCU limit error `error` carries (by name, or by selector when the ABI is unknown), if any. */
function hcuLimitError(error: unknown): string | undefined {
  const text = `${String(error)} ${JSON.stringify(error, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))}`;
  return ["HCUTransactionDepthLimitExceeded", "HCUTransactionLimitExceeded"].find(
    (name) => text.includes(name) || text.includes(ethers.id(`${name}()`).slice(0, 10)),
  );
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
