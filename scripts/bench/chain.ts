// `npm run bench:chain [-- --json]`: gas and fhEVM HCU of CipherShare's contracts on the in-process Hardhat chain
// (fhEVM mock). Measures the largest publication (a round at the program cap, the worst-case exclusion pattern) and
// the largest settlement batch that fits the per-transaction limits, and writes the numbers to
// test/contracts/gas-snapshot.json. With --json the last stdout line is one JSON object.
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import path from "node:path";
import type { Signer, TransactionReceipt } from "ethers";
import hre from "hardhat";
import { benchAnonymousClaims, type AnonymousClaimsBench } from "./anonymous";
import {
  ExclusionReason,
  advanceTo,
  createAcceptedProgram,
  deployCipherShare,
  encryptAmount,
  encryptShares,
  ensureFhevmMock,
  impersonatedSigners,
  latestTimestamp,
  publicationOf,
  sealOf,
  signRegistration,
  type CipherShareDeployment,
} from "../lib/chain";

const { ethers, fhevm } = hre;
const options = new Command()
  .name("npm run bench:chain --")
  .option("--json", "the last stdout line is one JSON object")
  .option("--anonymous-only", "measure only sealed payouts and anonymous claims (quick; writes no snapshot)")
  .parse(process.argv)
  .opts<{ json?: boolean; anonymousOnly?: boolean }>();
const json = options.json === true;
const log = (line: string): void => console.log(json ? `# ${line}` : line);

/** Per-transaction limits of the fhEVM host chain (HCULimit.sol) and of the hardfork (EIP-7825). */
const HCU_PER_TX = 20_000_000;
const HCU_DEPTH_PER_TX = 5_000_000;
const GAS_PER_TX = 2 ** 24;
/** The blob store is content-addressed by ciphertext hash: the URI only locates the store. */
const STORE_URI = "https://blobs.ciphershare.dev";
/** A per-blob IPFS URI (CIDv1), to show what each URI byte costs. */
const IPFS_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
/** The publication the issue asks for: at least 2,000 commitments in one transaction. */
const PUBLISH_CROWD = 2_000;
/** Rounds stay open long enough for thousands of one-second blocks. */
const PHASE_SECONDS = 1_000_000;
const DISPUTE_WINDOW = 60;
const DEPOSIT = 10n ** 16n;
const SHARE = 1_000n;
/** Sealed entries of the anonymous-claims round: more than the largest chunk that fits one transaction. */
const ANONYMOUS_CROWD = 130;

/** The HCU limit error the last rejected batch reverted with. */
let lastLimitError = "";

const gasOf = (receipt: TransactionReceipt | null): number => Number(receipt!.gasUsed);

interface Settlement {
  size: number;
  gas: number;
  hcu: number;
  depth: number;
}

interface Contributions {
  roundId: bigint;
  commitGas: number[];
  revealGas: number[];
}

async function main(): Promise<void> {
  // tsx loads Hardhat as a library, which (unlike `hardhat run`) does not compile first.
  await hre.run("compile", { quiet: true });
  await ensureFhevmMock();
  const [network, coprocessor, custodian, relayer, gasless] = await ethers.getSigners();
  const d = await deployCipherShare(network);
  const distributorAddress = await d.distributor.getAddress();
  const maxCommitments = Number(await d.rounds.MAX_COMMITMENTS_LIMIT());
  const programId = await createAcceptedProgram(
    d.rounds,
    network,
    {
      coprocessor: coprocessor.address,
      custodian,
      payoutToken: await d.token.getAddress(),
      publicKeyHash: ethers.id("pk"),
      valuationMethod: 2,
    },
    { maxCommitments, commitDeposit: DEPOSIT },
  );

  if (options.anonymousOnly === true) {
    const members = await impersonatedSigners(ANONYMOUS_CROWD, 7);
    for (const member of members) await (await d.rounds.connect(member).register("")).wait();
    const anonymous = await anonymousClaims(d, network, coprocessor, custodian, programId, members);
    if (json) console.log(JSON.stringify(anonymous));
    else console.table(anonymous);
    return;
  }

  log(`registering ${maxCommitments} contributors…`);
  const crowd = await impersonatedSigners(maxCommitments, 7);
  const registerGas = gasOf(await (await d.rounds.connect(crowd[0]).register("ipfs://profile.json")).wait());
  for (const member of crowd.slice(1)) await (await d.rounds.connect(member).register("")).wait();
  const deadline = (await latestTimestamp()) + 600n;
  const signature = await signRegistration(d.rounds, gasless, "ipfs://profile.json", deadline);
  const gaslessRegisterGas = gasOf(
    await (
      await d.rounds.connect(relayer).registerWithSignature(gasless.address, "ipfs://profile.json", deadline, signature)
    ).wait(),
  );

  log(`round of ${PUBLISH_CROWD} commitments: commit, reveal, close, publish…`);
  const measured = await contributeAll(d, network, programId, crowd.slice(0, PUBLISH_CROWD));
  const commitGas = Math.max(...measured.commitGas);
  const storeReveals = measured.revealGas.filter((_, i) => i % 2 === 0);
  const ipfsReveals = measured.revealGas.filter((_, i) => i % 2 === 1);
  // Comparable reveals: none of them starts a new status word (every 32nd commitment does).
  const sameWord = (gas: number[], parity: number) => gas.filter((_, i) => (2 * i + parity) % 32 !== 0);
  const revealGas = Math.max(...storeReveals);
  const revealGasIpfsUri = Math.max(...ipfsReveals);
  const perUriByte =
    (Math.max(...sameWord(ipfsReveals, 1)) - Math.max(...sameWord(storeReveals, 0))) /
    (IPFS_URI.length - STORE_URI.length);
  log(
    `commitContribution: ${commitGas} gas (with a deposit); revealContribution: ${revealGas} gas (${STORE_URI.length}-byte URI), ${revealGasIpfsUri} gas (${IPFS_URI.length}-byte URI)`,
  );
  const publishGas = await publishWorstCase(d, coprocessor, measured.roundId);
  log(`publishResults over ${PUBLISH_CROWD} commitments (one exclusion per 32, the rest included): ${publishGas} gas`);

  log(`round at the largest cap a program may set, ${maxCommitments} commitments…`);
  const capped = await contributeAll(d, network, programId, crowd);
  const publishMaxGas = await publishWorstCase(d, coprocessor, capped.roundId);
  const publishGasPerCommitment = (publishMaxGas - publishGas) / (maxCommitments - PUBLISH_CROWD);
  const publishFixedGas = publishGas - publishGasPerCommitment * PUBLISH_CROWD;
  const publishMaxByGas = Math.floor((GAS_PER_TX - publishFixedGas) / publishGasPerCommitment);
  log(
    `  publishResults over ${maxCommitments}: ${publishMaxGas} gas (cap ${GAS_PER_TX}); ${publishGasPerCommitment.toFixed(0)} gas per commitment: about ${publishMaxByGas} would fit by gas alone`,
  );

  const roundId = measured.roundId;
  await finalize(d, roundId);
  const anchorReleaseGas = gasOf(
    await (await d.rounds.connect(custodian).anchorRelease(roundId, ethers.id("release record"))).wait(),
  );
  const fund = await fundPool(d, roundId, network, SHARE * BigInt(PUBLISH_CROWD));
  log(`fundPool: ${fund.gas} gas, ${fund.hcu} HCU`);

  const included = (await publicationOf(d.rounds, roundId)).includedIndexes.filter((i) => i % 32 !== 0);
  const payees = included.map((i) => crowd[i]);
  let next = 0;
  const settle = async (size: number): Promise<Settlement | undefined> => {
    if (next + size > payees.length) throw new Error(`only ${payees.length} payees for a batch of ${size}`);
    const who = payees.slice(next, next + size);
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
    `  largest batch that fits: ${best.size} shares, ${best.hcu} HCU (limit ${HCU_PER_TX}), depth ${best.depth} (limit ${HCU_DEPTH_PER_TX}), ${best.gas} gas (limit ${GAS_PER_TX})`,
  );
  log(`  a batch of ${best.size + 1} reverts with ${lastLimitError}`);

  const claimer = payees[0];
  const claimReceipt = await (await d.distributor.connect(claimer).claim(roundId)).wait();
  const claimGas = gasOf(claimReceipt);
  const claimHcu = fhevm.computeTransactionHCU(claimReceipt!);
  log(`claim: ${claimGas} gas, ${claimHcu.globalHCU} HCU`);

  log("a small round settled to the end: completion, recovery of the remainder, deposit refund…");
  const small = await contributeAll(d, network, programId, crowd.slice(0, 3));
  await publishWorstCase(d, coprocessor, small.roundId, false);
  await finalize(d, small.roundId);
  await fundPool(d, small.roundId, network, 10n * SHARE);
  const encrypted = await encryptShares(distributorAddress, custodian.address, [SHARE, SHARE, SHARE]);
  const smallCrowd = await Promise.all(crowd.slice(0, 3).map((w) => w.getAddress()));
  await (
    await d.distributor.connect(custodian).settle(small.roundId, smallCrowd, encrypted.handles, encrypted.inputProofs)
  ).wait();
  const completeSettlementGas = gasOf(
    await (await d.distributor.connect(custodian).completeSettlement(small.roundId)).wait(),
  );
  const recoverReceipt = await (await d.distributor.connect(network).recoverPool(small.roundId)).wait();
  const recoverPoolGas = gasOf(recoverReceipt);
  const recoverPoolHcu = fhevm.computeTransactionHCU(recoverReceipt!).globalHCU;
  const withdrawDepositGas = gasOf(await (await d.rounds.connect(crowd[0]).withdrawDeposit(small.roundId)).wait());
  log(
    `completeSettlement ${completeSettlementGas} gas, recoverPool ${recoverPoolGas} gas (${recoverPoolHcu} HCU), withdrawDeposit ${withdrawDepositGas} gas, anchorRelease ${anchorReleaseGas} gas`,
  );

  const anonymous = await anonymousClaims(
    d,
    network,
    coprocessor,
    custodian,
    programId,
    crowd.slice(0, ANONYMOUS_CROWD),
  );

  log("baseline: pushing one ERC-7984 transfer per recipient from one balance…");
  const push = await ethers.deployContract("PushPayoutMock", [await d.token.getAddress()], network);
  const pushAddress = await push.getAddress();
  await fundPushBaseline(d, network, pushAddress, SHARE * BigInt(PUBLISH_CROWD));
  const recipients = await Promise.all(crowd.slice(0, 100).map((w: Signer) => w.getAddress()));
  const pushBatch = async (size: number): Promise<Settlement | undefined> => {
    const pushed = await encryptShares(
      pushAddress,
      network.address,
      recipients.slice(0, size).map(() => 1n),
    );
    return measureBatch(size, () =>
      push.connect(network).payAll(recipients.slice(0, size), pushed.handles, pushed.inputProofs),
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
    commitGasIpfsUri: commitGas + revealGasIpfsUri,
    commitGasPerUriByte: perUriByte,
    revealGas,
    revealGasIpfsUri,
    registerGas,
    gaslessRegisterGas,
    publishResultsGas: publishGas,
    publishResultsCommitments: PUBLISH_CROWD,
    publishMaxCommitments: maxCommitments,
    publishMaxCommitmentsGas: publishMaxGas,
    publishGasPerCommitment,
    publishMaxCommitmentsByGas: publishMaxByGas,
    anchorReleaseGas,
    fundPoolGas: fund.gas,
    fundPoolHcu: fund.hcu,
    settleBatchSize: best.size,
    settleHcuPerContributor: hcuPerContributor,
    settleHcuPerBatch: fixedHcu,
    settleHcuAtBatchSize: best.hcu,
    settleHcuDepthAtBatchSize: best.depth,
    settleGasAtBatchSize: best.gas,
    settleGasPerContributor: gasPerContributor,
    completeSettlementGas,
    recoverPoolGas,
    recoverPoolHcu,
    withdrawDepositGas,
    claimGas,
    claimHcu: claimHcu.globalHCU,
    ...anonymous,
    pushPayoutMaxPerTx: pushed.largest.size,
    pushPayoutHcuDepthPerRecipient: pushed.perItemDepth,
    pushPayoutHcuPerRecipient: pushed.perItemHcu,
    settleVsPushBatchRatio: batchRatio,
    hcuLimitPerTx: HCU_PER_TX,
    hcuDepthLimitPerTx: HCU_DEPTH_PER_TX,
    gasLimitPerTx: GAS_PER_TX,
  };
  const snapshot = path.join(__dirname, "..", "..", "test", "contracts", "gas-snapshot.json");
  writeFileSync(snapshot, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), snapshot)}`);
  if (json) console.log(JSON.stringify(result));
  else console.table(result);
}

/**
 * A round of `members` who each seal a fresh payout address, settled in batches of at most 67 and completed; then
 * the claims that scan it (scripts/bench/anonymous.ts).
 */
async function anonymousClaims(
  d: CipherShareDeployment,
  network: Signer,
  coprocessor: Signer,
  custodian: Signer,
  programId: bigint,
  members: readonly Signer[],
): Promise<AnonymousClaimsBench> {
  log(`anonymous claims: a round of ${members.length} contributors who each seal a fresh payout address…`);
  const distributorAddress = await d.distributor.getAddress();
  const custodianAddress = await custodian.getAddress();
  return benchAnonymousClaims(
    d,
    members,
    async (who, seal) => {
      const round = await contributeAll(d, network, programId, who, async (roundId) => {
        for (const member of who) await seal(member, roundId);
      });
      await publishWorstCase(d, coprocessor, round.roundId, false);
      await finalize(d, round.roundId);
      return round.roundId;
    },
    async (roundId) => {
      await fundPool(d, roundId, network, SHARE * BigInt(members.length));
      for (let start = 0; start < members.length; start += 67) {
        const batch = members.slice(start, start + 67);
        const shares = await encryptShares(
          distributorAddress,
          custodianAddress,
          batch.map(() => SHARE),
        );
        const addresses = await Promise.all(batch.map((m) => m.getAddress()));
        await (
          await d.distributor.connect(custodian).settle(roundId, addresses, shares.handles, shares.inputProofs)
        ).wait();
      }
      await (await d.distributor.connect(custodian).completeSettlement(roundId)).wait();
    },
    log,
    hcuLimitError,
  );
}

/**
 * Opens a round of `programId`; each of `members` (registered) commits with the deposit, then (after `beforeReveal`)
 * reveals (even indexes with the store URI, odd ones with an IPFS URI); closes the round. Returns the gas of every
 * commit and reveal.
 */
async function contributeAll(
  d: CipherShareDeployment,
  network: Signer,
  programId: bigint,
  members: readonly Signer[],
  beforeReveal?: (roundId: bigint) => Promise<void>,
): Promise<Contributions> {
  const commitDeadline = (await latestTimestamp()) + BigInt(PHASE_SECONDS);
  await (
    await d.rounds
      .connect(network)
      .openRound(programId, ethers.id("base"), commitDeadline, PHASE_SECONDS, DISPUTE_WINDOW)
  ).wait();
  const roundId = await d.rounds.roundCount();
  const hashes = members.map((_, i) => ethers.id(`round ${roundId} update ${i}`));
  const commitGas: number[] = [];
  for (const [i, member] of members.entries()) {
    const seal = sealOf(hashes[i], await member.getAddress());
    const tx = await d.rounds.connect(member).commitContribution(roundId, seal, 600, { value: DEPOSIT });
    commitGas.push(gasOf(await tx.wait()));
  }
  await beforeReveal?.(roundId);
  await advanceTo(commitDeadline + 1n);
  const revealGas: number[] = [];
  for (const [i, member] of members.entries()) {
    const uri = i % 2 === 0 ? STORE_URI : IPFS_URI;
    revealGas.push(gasOf(await (await d.rounds.connect(member).revealContribution(roundId, hashes[i], uri)).wait()));
  }
  await advanceTo(commitDeadline + BigInt(PHASE_SECONDS) + 1n);
  await (await d.rounds.closeRound(roundId)).wait();
  return { roundId, commitGas, revealGas };
}

/**
 * Publishes round `roundId` as the coprocessor; with `worstCase`, one commitment per 32 is excluded (Malformed) and
 * the rest included: every reason word is stored and almost every revealed hash is read, the costliest pattern.
 */
async function publishWorstCase(
  d: CipherShareDeployment,
  coprocessor: Signer,
  roundId: bigint,
  worstCase = true,
): Promise<number> {
  const { commitCount } = await d.rounds.round(roundId);
  const excluded = new Map<number, ExclusionReason>();
  if (worstCase) for (let i = 0; i < Number(commitCount); i += 32) excluded.set(i, ExclusionReason.Malformed);
  const publication = await publicationOf(d.rounds, roundId, excluded);
  const tx = await d.rounds
    .connect(coprocessor)
    .publishResults(roundId, ethers.id("aggregate"), ethers.id("scores"), publication.inputsHash, publication.reasons, {
      gasLimit: GAS_PER_TX,
    });
  return gasOf(await tx.wait());
}

async function finalize(d: CipherShareDeployment, roundId: bigint): Promise<void> {
  await advanceTo((await d.rounds.round(roundId)).disputeDeadline + 1n);
  await (await d.rounds.finalizeRound(roundId)).wait();
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
