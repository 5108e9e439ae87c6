// `npm run demo`: one royalty round of CipherShare's contracts on the embedded Hardhat chain with the fhEVM mock.
// Registration (one contributor gaslessly) -> program -> round -> commitments -> results -> finalization ->
// a pool funded by wrapping a test ERC-20 -> encrypted settlement -> claims -> each contributor decrypts its royalty.
// The shares stand in for the encrypted Shapley values the coprocessor will compute in a later step.
import { FhevmType } from "@fhevm/hardhat-plugin";
import { ethers, fhevm } from "hardhat";
import {
  advanceTime,
  deployCipherShare,
  encryptAmount,
  encryptShares,
  ensureFhevmMock,
  inputsHashOf,
  latestTimestamp,
  signRegistration,
} from "../lib/chain";

const DECIMALS = 6;
const POOL = 1_000n * 10n ** BigInt(DECIMALS);
const COMMIT_PERIOD = 3600;
const DISPUTE_WINDOW = 600;
const STORE_URI = "https://blobs.ciphershare.dev";
const EXCLUDED_BLOB_MISSING = 1;

const step = (text: string): void => console.log(`• ${text}`);
const tokens = (amount: bigint): string => ethers.formatUnits(amount, DECIMALS);
const short = (address: string): string => `${address.slice(0, 6)}…${address.slice(-4)}`;

async function main(): Promise<void> {
  await ensureFhevmMock();
  const [network, coprocessor, custodian, relayer, alice, bob, carol, dave, erin] = await ethers.getSigners();
  const people = [
    { name: "alice", signer: alice, samples: 1200n, score: 4n },
    { name: "bob", signer: bob, samples: 800n, score: 3n },
    { name: "carol", signer: carol, samples: 600n, score: 2n },
    { name: "dave", signer: dave, samples: 400n, score: 1n, gasless: true },
    { name: "erin", signer: erin, samples: 300n, score: 0n, excluded: true },
  ];

  console.log("CipherShare — contract-level royalty round on the embedded fhEVM chain (mock)\n");
  const { rounds, distributor, token, underlying } = await deployCipherShare(network);
  const distributorAddress = await distributor.getAddress();
  const tokenAddress = await token.getAddress();
  step(`deployed RoundManager ${short(await rounds.getAddress())}, RoyaltyDistributor ${short(distributorAddress)},`);
  step(`  RoyaltyToken ${short(tokenAddress)} (ERC-7984) wrapping test ERC-20 ${short(await underlying.getAddress())}`);

  for (const p of people) {
    const uri = `ipfs://profiles/${p.name}.json`;
    if (p.gasless) {
      const deadline = (await latestTimestamp()) + 600n;
      const signature = await signRegistration(rounds, p.signer, uri, deadline);
      await (await rounds.connect(relayer).registerWithSignature(p.signer.address, uri, deadline, signature)).wait();
    } else {
      await (await rounds.connect(p.signer).register(uri)).wait();
    }
  }
  step(
    `registered ${people.length} contributors (dave gaslessly: an EIP-712 signature relayed by ${short(relayer.address)})`,
  );

  await (
    await rounds
      .connect(network)
      .createProgram(coprocessor.address, custodian.address, ethers.id("ckks-public-key-bundle"), 2, tokenAddress)
  ).wait();
  const programId = await rounds.programCount();
  const commitDeadline = (await latestTimestamp()) + BigInt(COMMIT_PERIOD);
  await (
    await rounds.connect(network).openRound(programId, ethers.id("base-model-v0"), commitDeadline, DISPUTE_WINDOW)
  ).wait();
  const roundId = await rounds.roundCount();
  step(`program ${programId} created; round ${roundId} open until the commit deadline`);

  const hashes = new Map<string, string>();
  let commitGas = 0n;
  for (const p of people) {
    const hash = ethers.id(`encrypted update of ${p.name}`);
    hashes.set(p.name, hash);
    const receipt = await (
      await rounds.connect(p.signer).commitContribution(roundId, hash, p.samples, STORE_URI)
    ).wait();
    commitGas = receipt!.gasUsed > commitGas ? receipt!.gasUsed : commitGas;
  }
  step(`${people.length} contributions committed (at most ${commitGas} gas each)`);

  await advanceTime(COMMIT_PERIOD + 1);
  await (await rounds.closeRound(roundId)).wait();
  const included = people.filter((p) => !p.excluded);
  await (
    await rounds.connect(coprocessor).publishResults(
      roundId,
      ethers.id("aggregate"),
      ethers.id("encrypted scores"),
      inputsHashOf(included.map((p) => hashes.get(p.name)!)),
      people.filter((p) => p.excluded).map((p) => ({ contributor: p.signer.address, reason: EXCLUDED_BLOB_MISSING })),
    )
  ).wait();
  step("round closed; coprocessor published its result commitments (erin excluded: blob missing)");
  await advanceTime(DISPUTE_WINDOW + 1);
  await (await rounds.finalizeRound(roundId)).wait();
  step("dispute window passed without challenge; round finalized");

  await (await underlying.mint(network.address, POOL)).wait();
  await (await underlying.connect(network).approve(tokenAddress, POOL)).wait();
  await (await token.connect(network).wrap(network.address, POOL)).wait();
  await (await token.connect(network).setOperator(distributorAddress, (await latestTimestamp()) + 3600n)).wait();
  const funding = await encryptAmount(distributorAddress, network.address, POOL);
  await (await distributor.connect(network).fundPool(roundId, funding.handle, funding.inputProof)).wait();
  step(`network wrapped ${tokens(POOL)} tUSD into cROY and funded the round's pool`);

  const totalScore = included.reduce((sum, p) => sum + p.score, 0n);
  const shares = included.map((p) => (POOL * p.score) / totalScore);
  const encrypted = await encryptShares(distributorAddress, custodian.address, shares);
  const settleReceipt = await (
    await distributor.connect(custodian).settle(
      roundId,
      included.map((p) => p.signer.address),
      encrypted.handles,
      encrypted.inputProofs,
    )
  ).wait();
  const hcu = fhevm.computeTransactionHCU(settleReceipt!);
  step(`custodian settled ${included.length} encrypted shares in one transaction (${hcu.globalHCU} HCU)`);
  const unallocated = await fhevm.publicDecryptEuint(FhevmType.euint64, await distributor.unallocatedOf(roundId));
  step(`anyone can check: unallocated pool decrypts publicly to ${unallocated}, so the shares sum to the pool`);

  for (const p of included) await (await distributor.connect(p.signer).claim(roundId)).wait();
  step("included contributors claimed\n");

  const rows: string[][] = [["contributor", "address", "registered", "samples", "round", "royalty (cROY)"]];
  for (const p of people) {
    const handle = await token.confidentialBalanceOf(p.signer.address);
    const royalty = p.excluded
      ? "—"
      : tokens(await fhevm.userDecryptEuint(FhevmType.euint64, handle, tokenAddress, p.signer));
    const registered = p.gasless ? "gasless" : "direct";
    rows.push([
      p.name,
      short(p.signer.address),
      registered,
      p.samples.toString(),
      p.excluded ? "excluded" : "included",
      royalty,
    ]);
  }
  const numeric = new Set([3, 5]);
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]): string =>
    row
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
      .join("  ");
  console.log(line(rows[0]));
  console.log(widths.map((w) => "─".repeat(w)).join("  "));
  for (const row of rows.slice(1)) console.log(line(row));
  console.log("\nEach royalty was decrypted by its own contributor (user decryption); nobody else can read it.");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
