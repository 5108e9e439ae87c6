// `npm run demo:contracts`: one royalty round of CipherShare's contracts on the embedded Hardhat chain with the fhEVM
// mock. Registration (one contributor gaslessly) -> program accepted by its custodian -> round -> sealed commitments
// -> reveals -> results -> finalization -> release anchored -> a pool funded by wrapping a test ERC-20 -> encrypted
// settlement, completed -> claims -> each contributor decrypts its royalty; deposits refunded or forfeited.
// The shares stand in for the encrypted Shapley values the coprocessor will compute in a later step.
import { FhevmType } from "@fhevm/hardhat-plugin";
import { ethers, fhevm } from "hardhat";
import {
  ExclusionReason,
  advanceTo,
  createAcceptedProgram,
  deployCipherShare,
  encryptAmount,
  encryptShares,
  ensureFhevmMock,
  latestTimestamp,
  publicationOf,
  sealOf,
  signRegistration,
} from "../lib/chain";

const DECIMALS = 6;
const POOL = 1_000n * 10n ** BigInt(DECIMALS);
const COMMIT_PERIOD = 3600;
const REVEAL_WINDOW = 1800;
const DISPUTE_WINDOW = 600;
const STORE_URI = "https://blobs.ciphershare.dev";
const DEPOSIT = ethers.parseEther("0.01");

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

  const programId = await createAcceptedProgram(
    rounds,
    network,
    {
      coprocessor: coprocessor.address,
      custodian,
      payoutToken: tokenAddress,
      publicKeyHash: ethers.id("ckks-public-key-bundle"),
      valuationMethod: 2,
    },
    { commitDeposit: DEPOSIT },
  );
  const commitDeadline = (await latestTimestamp()) + BigInt(COMMIT_PERIOD);
  await (
    await rounds
      .connect(network)
      .openRound(programId, ethers.id("base-model-v0"), commitDeadline, REVEAL_WINDOW, DISPUTE_WINDOW)
  ).wait();
  const roundId = await rounds.roundCount();
  step(`program ${programId} created and accepted by its custodian; round ${roundId} open until the commit deadline`);

  const hashes = new Map<string, string>();
  let commitGas = 0n;
  for (const p of people) {
    const hash = ethers.id(`encrypted update of ${p.name}`);
    hashes.set(p.name, hash);
    const receipt = await (
      await rounds.connect(p.signer).commitContribution(roundId, sealOf(hash, p.signer.address), p.samples, {
        value: DEPOSIT,
      })
    ).wait();
    commitGas = receipt!.gasUsed > commitGas ? receipt!.gasUsed : commitGas;
  }
  step(
    `${people.length} sealed commitments, ${ethers.formatEther(DEPOSIT)} ETH deposit each (at most ${commitGas} gas)`,
  );

  await advanceTo(commitDeadline + 1n);
  for (const p of people) {
    await (await rounds.connect(p.signer).revealContribution(roundId, hashes.get(p.name)!, STORE_URI)).wait();
  }
  await advanceTo((await rounds.round(roundId)).revealDeadline + 1n);
  await (await rounds.closeRound(roundId)).wait();
  step("every contributor revealed its ciphertext hash and storage URI; round closed");

  const excludedIndexes = new Map(
    people.flatMap((p, index) => (p.excluded ? [[index, ExclusionReason.BlobMissing] as const] : [])),
  );
  const publication = await publicationOf(rounds, roundId, excludedIndexes);
  await (
    await rounds
      .connect(coprocessor)
      .publishResults(
        roundId,
        ethers.id("aggregate"),
        ethers.id("encrypted scores"),
        publication.inputsHash,
        publication.reasons,
      )
  ).wait();
  const included = people.filter((p) => !p.excluded);
  step("coprocessor published its result commitments (erin excluded: blob missing)");
  await advanceTo((await rounds.round(roundId)).disputeDeadline + 1n);
  await (await rounds.finalizeRound(roundId)).wait();
  await (await rounds.connect(custodian).anchorRelease(roundId, ethers.id("release record"))).wait();
  step("dispute window passed without challenge; round finalized; the custodian anchored its release record");

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
  await (await distributor.connect(custodian).completeSettlement(roundId)).wait();
  const unallocated = await fhevm.publicDecryptEuint(FhevmType.euint64, await distributor.unallocatedOf(roundId));
  step(`anyone can check: unallocated pool decrypts publicly to ${unallocated}, so the shares sum to the pool`);

  for (const p of included) await (await distributor.connect(p.signer).claim(roundId)).wait();
  for (const p of included) await (await rounds.connect(p.signer).withdrawDeposit(roundId)).wait();
  await (await rounds.connect(network).collectForfeitedDeposits(roundId)).wait();
  step("included contributors claimed and withdrew their deposits; erin's deposit went to the network\n");

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
