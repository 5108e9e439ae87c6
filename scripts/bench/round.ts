// `npm run bench:round [-- --json] [-- --contributors N] [-- --encrypted-valuation | --plaintext-valuation]
// [-- --queue local|redis://… --workers N]`: one royalty round of N contributors (default 200) end to end on the
// embedded chain (the in-process Hardhat network with the fhEVM mock, as `bench:chain`): registration, sealed
// commitments with deposits, reveals, close, the coprocessor's work (every envelope checked against its revealed
// hash, encrypted FedAvg, the valuation by the round's Shapley coefficient map), publication, finalization, the
// release anchored, the pool funded, settlement in batches of SHARES_PER_SETTLEMENT, completion, every claim.
// The bench decrypts every claim with the mock's debugger and prints the books: `lost` is computed, not assumed.
// With --json the last stdout line is `{contributors, seconds, settleTransactions, maxGasPerTx, maxHcuPerTx, lost,
// valuation, valuationSeconds, valuationMaxRelError, …}`. With --queue the same FedAvg also runs on N
// `ciphershare coprocessor worker` processes (BullMQ; `local` starts a Redis of its own) and must give the embedded
// bytes (`fedAvgQueueSeconds`, `fedAvgQueueBytesIdentical`); the encrypted valuation then runs on them too.
//
// What is encrypted (docs/runtime.md, "A large round"): contributions are real CKKS envelopes under a round key
// (deep-v2, the MNIST shape 785 × 10) and FedAvg runs on them homomorphically. The valuation uses the round's own
// coefficient map (`roundCoefficientMap`: exact up to 300 contributions, sampled above). By default
// (--encrypted-valuation) it runs under encryption end to end (`round-valuation.ts` → `valueContributions`): the custodian's epoch keys
// (with the Galois keys the valuation needs, which the round's FedAvg key lacks), each simulated contributor encrypts
// its model and its projection R·w_i, the coprocessor checks the projections (one flooded residual, seed from the
// included inputs and a later block) and computes Enc(φ) on worker threads (or the queue), the custodian releases
// only the residual and Enc(φ), flooded, and the round publishes Enc(φ)'s commitment and settles by the released φ.
// With --plaintext-valuation the same map is applied to the plaintext Gram vector instead: ~1.5 min for the whole
// round at n = 200 instead of ~16 min on a quiet 2-core machine (20,300 encrypted Gram terms at 0.06–0.08 core-s).
import { Command } from "commander";
import type { Interface, Signer, TransactionReceipt, TransactionResponse } from "ethers";
import hre from "hardhat";
import { FhevmType } from "@fhevm/hardhat-plugin";
import { SHARES_PER_SETTLEMENT } from "@ciphershare/protocol/chain/constants";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { parseEnvelope, EnvelopeKind } from "@ciphershare/protocol/ckks/envelope";
import { generateKeys, loadPublicBundle, serializePublicBundle } from "@ciphershare/protocol/ckks/keys";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import type { Hex } from "@ciphershare/protocol/hex";
import { zeroModel } from "@ciphershare/protocol/records/model";
import { modelTensors, ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import { fedAvgEncrypted } from "@ciphershare/coprocessor/fedavg/homomorphic";
import { queueFedAvg } from "@ciphershare/coprocessor/queue/fedavg";
import {
  modelMatrix,
  roundCoefficientMap,
  roundKernel,
  validationMatrices,
} from "@ciphershare/coprocessor/roles/computation";
import { settlementBatches } from "@ciphershare/coprocessor/roles/custodian";
import { parseProjectionKeyProfile } from "@ciphershare/coprocessor/shapley/encrypted/key-profile";
import { largestRemainderShares } from "@ciphershare/coprocessor/payouts/shares";
import { roundChallengeSeed } from "@ciphershare/coprocessor/shapley/encrypted/consistency";
import {
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
} from "../lib/chain";
import { clients as mnistClients, validationDataset } from "./mnist-clients";
import { startQueue, type BenchQueue } from "./queue";
import { roundLedger } from "./round-ledger";
import { valueRound } from "./round-valuation";

const { ethers, fhevm } = hre;
const options = new Command()
  .name("npm run bench:round --")
  .option("--json", "the last stdout line is one JSON object")
  .option("--contributors <n>", "contributors in the round", "200")
  .option("--queue <redis-url>", "also run FedAvg on BullMQ worker processes (redis://HOST:PORT, or local)")
  .option("--workers <n>", "worker threads of the encrypted valuation, or worker processes with --queue", "2")
  .option("--encrypted-valuation", "value the round under encryption (the default: submitted projections, release)")
  .option("--plaintext-valuation", "apply the round's coefficient map to the plaintext Gram vector instead")
  .option(
    "--key-profile <profile>",
    "the valuation's Galois key set: submitted (powers of two + conjugation, the default) or computed (a key per projection step)",
    "submitted",
  )
  .parse(process.argv)
  .opts<{
    json?: boolean;
    contributors: string;
    queue?: string;
    workers: string;
    encryptedValuation?: boolean;
    plaintextValuation?: boolean;
    keyProfile: string;
  }>();
const json = options.json === true;
const log = (line: string): void => console.log(json ? `# ${line}` : line);
const contributors = Number(options.contributors);
const workers = Number(options.workers);
const keyProfile = parseProjectionKeyProfile(options.keyProfile);
if (!Number.isSafeInteger(contributors) || contributors < 3 || !Number.isSafeInteger(workers) || workers < 1) {
  console.error(
    `bench:round: --contributors must be an integer ≥ 3 and --workers ≥ 1 (got "${options.contributors}", "${options.workers}")`,
  );
  process.exit(2);
}
if (options.encryptedValuation && options.plaintextValuation) {
  console.error("bench:round: --encrypted-valuation and --plaintext-valuation exclude each other");
  process.exit(2);
}
const encryptedValuation = options.plaintextValuation !== true;

const PHASE_SECONDS = 3_600;
const DISPUTE_WINDOW = 600;
const DEPOSIT = 10n ** 16n;
/** 1,000 tokens at 6 decimals. */
const POOL = 1_000_000_000n;
const STORE_URI = "https://blobs.ciphershare.dev";
/** Dirichlet concentration of the clients' label skew: high enough that 200 clients of 7,000 rows all get data. */
const ALPHA = 100;

interface TxCost {
  method: string;
  gas: number;
  hcu: number;
  depth: number;
}

const costs: TxCost[] = [];
const settleCosts: TxCost[] = [];
/** The deployed contracts' ABIs, to name each transaction's method. */
const interfaces: Interface[] = [];

/** Sends, waits, records gas and fhEVM HCU (`fhevm.computeTransactionHCU`) of every transaction of the round. */
async function sent(tx: Promise<TransactionResponse>, into: TxCost[] = costs): Promise<TransactionReceipt> {
  const response = await tx;
  const receipt = (await response.wait())!;
  const hcu = fhevm.computeTransactionHCU(receipt);
  const method =
    interfaces.map((abi) => abi.parseTransaction({ data: response.data })).find((parsed) => parsed)?.name ?? "?";
  const cost = { method, gas: Number(receipt.gasUsed), hcu: hcu.globalHCU, depth: hcu.maxHCUDepth };
  costs.push(cost);
  if (into !== costs) into.push(cost);
  return receipt;
}

/** The round's costliest transaction by `key`. */
function largest(key: "gas" | "hcu"): TxCost {
  return costs.reduce((best, cost) => (cost[key] > best[key] ? cost : best));
}

async function timed<T>(phase: string, seconds: Record<string, number>, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const value = await work();
  seconds[phase] = Number(((performance.now() - started) / 1000).toFixed(1));
  log(`  ${phase}: ${seconds[phase]} s`);
  return value;
}

async function main(): Promise<void> {
  const started = performance.now();
  const phases: Record<string, number> = {};
  await hre.run("compile", { quiet: true });
  await ensureFhevmMock();
  const [network, coprocessor, custodian] = await ethers.getSigners();
  const d = await deployCipherShare(network);
  const distributorAddress = await d.distributor.getAddress();
  interfaces.push(d.rounds.interface, d.distributor.interface, d.token.interface, d.underlying.interface);

  log(`${contributors} contributors, MNIST shape 785 × 10, ${ROUND_PARAMETER_SET_ID}`);
  const ctx = await CkksContext.create(ROUND_PARAMETER_SET_ID);
  const keys = await timed("keygen", phases, async () => generateKeys(ctx));
  const bundleBytes = serializePublicBundle(keys.bundle);
  const bundle = await loadPublicBundle(ctx, bundleBytes);
  const programId = await createAcceptedProgram(
    d.rounds,
    network,
    {
      coprocessor: coprocessor.address,
      custodian,
      payoutToken: await d.token.getAddress(),
      publicKeyHash: bundle.hash,
      valuationMethod: 1,
    },
    { maxCommitments: Math.max(contributors, 3), commitDeposit: DEPOSIT },
  );

  const validation = validationDataset();
  const base = zeroModel(validation.dimension, validation.classes);
  const { models, sampleCounts } = await timed("training", phases, async () => mnistClients(contributors, ALPHA));
  const empty = sampleCounts.findIndex((count) => count < 1);
  if (empty >= 0) throw new Error(`client ${empty} got no training rows; raise ALPHA`);

  const crowd = await impersonatedSigners(contributors, 13);
  const addresses = await Promise.all(crowd.map((member) => member.getAddress()));
  await timed("registration", phases, async () => {
    for (const member of crowd) await sent(d.rounds.connect(member).register(""));
  });

  const envelopes = await timed("encryption", phases, async () => {
    const out: Uint8Array[] = [];
    for (const model of models) {
      out.push(
        await encryptModelUpdate(ctx, bundle, {
          values: model.data,
          tensors: modelTensors(validation.dimension, validation.classes),
        }),
      );
    }
    return out;
  });
  const hashes = await Promise.all(envelopes.map((envelope) => keccak256(envelope)));

  const commitDeadline = (await latestTimestamp()) + BigInt(PHASE_SECONDS);
  await sent(
    d.rounds
      .connect(network)
      .openRound(
        programId,
        await keccak256(new TextEncoder().encode("base")),
        commitDeadline,
        PHASE_SECONDS,
        DISPUTE_WINDOW,
      ),
  );
  const roundId = await d.rounds.roundCount();
  await timed("commitments", phases, async () => {
    for (const [i, member] of crowd.entries()) {
      await sent(
        d.rounds.connect(member).commitContribution(roundId, sealOf(hashes[i], addresses[i]), sampleCounts[i], {
          value: DEPOSIT,
        }),
      );
    }
  });
  await advanceTo(commitDeadline + 1n);
  await timed("reveals", phases, async () => {
    for (const [i, member] of crowd.entries()) {
      await sent(d.rounds.connect(member).revealContribution(roundId, hashes[i], STORE_URI));
    }
  });
  await advanceTo(commitDeadline + BigInt(PHASE_SECONDS) + 1n);
  await sent(d.rounds.closeRound(roundId));

  // The coprocessor: every envelope against its revealed hash and the round's key, FedAvg, φ, publication.
  const publication = await publicationOf(d.rounds, roundId);
  if (publication.includedIndexes.length !== contributors) {
    throw new Error(`${publication.includedIndexes.length} of ${contributors} contributions included`);
  }
  const parsed = await timed("verify inputs", phases, async () =>
    Promise.all(
      envelopes.map(async (envelope, i) => {
        if ((await keccak256(envelope)) !== hashes[i]) throw new Error(`envelope ${i} does not match its reveal`);
        return parseEnvelope(envelope, {
          kind: EnvelopeKind.Contribution,
          parameterSetId: ROUND_PARAMETER_SET_ID,
          publicBundleHash: bundle.hash,
        });
      }),
    ),
  );
  const aggregate = await timed("fedavg (encrypted)", phases, async () =>
    fedAvgEncrypted(
      ctx,
      parsed.map((envelope, i) => ({ envelope, sampleCount: sampleCounts[i] })),
      { publicBundleHash: bundle.hash },
    ),
  );
  queue = options.queue === undefined ? undefined : await startQueue(options.queue, workers, log);
  const queued =
    queue === undefined
      ? undefined
      : await fedAvgOnQueue(
          queue,
          ctx,
          envelopes.map((envelope, i) => ({ envelope, sampleCount: sampleCounts[i] })),
          bundle.hash,
        );
  if (queued !== undefined && !Buffer.from(queued.aggregate).equals(Buffer.from(aggregate))) {
    throw new Error("FedAvg on the queue gave other bytes than the embedded FedAvg");
  }
  // The envelopes are done with (their hashes are on chain): ~0.5 GB at n = 200 the valuation's workers can use.
  envelopes.length = 0;
  parsed.length = 0;
  const kernel = roundKernel(validation, base);
  const map = await timed("coefficient map", phases, async () => roundCoefficientMap(sampleCounts, kernel));
  // The consistency check's public seed: fixed after submissions close, from the included inputs and a later block.
  const laterBlock = (await ethers.provider.getBlock("latest"))!.hash! as Hex;
  const valued = await timed(`valuation (${encryptedValuation ? "encrypted" : "plaintext Gram"})`, phases, async () =>
    valueRound({
      kernel,
      ...validationMatrices(validation),
      base: modelMatrix(base),
      models,
      sampleCounts,
      map,
      encrypted: encryptedValuation,
      workers,
      backend: queue?.backend,
      keyProfile,
      challengeSeed: await roundChallengeSeed(publication.inputsHash as Hex, laterBlock),
      log,
    }),
  );
  await queue?.stop();
  queue = undefined;
  const phi = valued.phi;
  await sent(
    d.rounds
      .connect(coprocessor)
      .publishResults(
        roundId,
        await keccak256(aggregate),
        valued.scoresHash,
        publication.inputsHash,
        publication.reasons,
      ),
  );

  // Finalization, the custodian's release and settlement, the claims.
  await advanceTo((await d.rounds.round(roundId)).disputeDeadline + 1n);
  await sent(d.rounds.finalizeRound(roundId));
  await sent(d.rounds.connect(custodian).anchorRelease(roundId, valued.releaseHash));
  await fundPool(d, roundId, network, POOL);
  const { shares } = largestRemainderShares(POOL, phi);
  const batches = settlementBatches(contributors, SHARES_PER_SETTLEMENT);
  await timed("settlement", phases, async () => {
    for (const [start, end] of batches) {
      const encrypted = await encryptShares(distributorAddress, custodian.address, shares.slice(start, end));
      await sent(
        d.distributor
          .connect(custodian)
          .settle(roundId, addresses.slice(start, end), encrypted.handles, encrypted.inputProofs),
        settleCosts,
      );
    }
    await sent(d.distributor.connect(custodian).completeSettlement(roundId));
  });
  const claimed = await timed("claims", phases, async () => {
    const paid: bigint[] = [];
    for (const member of crowd) {
      const receipt = await sent(d.distributor.connect(member).claim(roundId));
      const event = receipt.logs
        .map((entry) => d.distributor.interface.parseLog(entry))
        .find((parsedLog) => parsedLog?.name === "RoyaltyClaimed");
      if (!event) throw new Error("a claim emitted no RoyaltyClaimed");
      paid.push(await fhevm.debugger.decryptEuint(FhevmType.euint64, event.args.paid as string));
    }
    return paid;
  });
  const decrypt = (handle: string) => fhevm.debugger.decryptEuint(FhevmType.euint64, handle);
  const ledger = roundLedger({
    pool: await decrypt(await d.distributor.poolOf(roundId)),
    claimed,
    settled: shares,
    unallocated: await decrypt(await d.distributor.unallocatedOf(roundId)),
    unclaimed: await decrypt(await d.distributor.unclaimedOf(roundId)),
  });

  const result = {
    contributors,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    settleTransactions: settleCosts.length,
    maxGasPerTx: Math.max(...costs.map((c) => c.gas)),
    maxHcuPerTx: Math.max(...costs.map((c) => c.hcu)),
    maxHcuDepthPerTx: Math.max(...costs.map((c) => c.depth)),
    maxGasMethod: largest("gas").method,
    maxHcuMethod: largest("hcu").method,
    lost: Number(ledger.lost),
    transactions: costs.length,
    pool: Number(ledger.pool),
    claimed: Number(ledger.claimed),
    valuation: valued.valuation,
    valuationMethod: map.method,
    valuationSeconds: valued.valuationSeconds,
    valuationMaxRelError: valued.valuationMaxRelError,
    ...(valued.valuation === "encrypted"
      ? {
          valuationMaxRelErrorUnflooded: valued.valuationMaxRelErrorUnflooded,
          valuationBreakdown: valued.valuationBreakdown,
          keyProfile,
          valuationWorkers: options.queue === undefined ? `${workers} threads` : `${workers} queue processes`,
          floodingSigma: valued.floodingSigma,
          inconsistentProjections: valued.inconsistentProjections,
          consistencyChecks: valued.consistencyChecks,
          valuationTerms: map.entries,
        }
      : {}),
    ...(queued === undefined
      ? {}
      : { fedAvgQueueWorkers: workers, fedAvgQueueSeconds: queued.seconds, fedAvgQueueBytesIdentical: true }),
    parameterSet: ROUND_PARAMETER_SET_ID,
    modelShape: `${validation.dimension}x${validation.classes}`,
    phaseSeconds: phases,
  };
  bundle.dispose();
  if (json) console.log(JSON.stringify(result));
  else console.log(result);
  if (ledger.lost !== 0n) process.exitCode = 1;
}

/** The BullMQ queue of --queue while it runs (FedAvg, then the encrypted valuation), stopped on the way out. */
let queue: BenchQueue | undefined;

/** FedAvg of the same envelopes on `workers` BullMQ worker processes: its output and its wall-clock seconds. */
async function fedAvgOnQueue(
  running: BenchQueue,
  ctx: CkksContext,
  clients: readonly { envelope: Uint8Array; sampleCount: number }[],
  publicBundleHash: Hex,
): Promise<{ aggregate: Uint8Array; seconds: number }> {
  const started = performance.now();
  const aggregate = await queueFedAvg(ctx, clients, { queue: running.url, store: running.store, publicBundleHash });
  const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  log(`  fedavg on ${workers} queue worker process(es): ${seconds} s, the embedded bytes`);
  return { aggregate, seconds };
}

async function fundPool(
  d: Awaited<ReturnType<typeof deployCipherShare>>,
  roundId: bigint,
  funder: Signer,
  amount: bigint,
): Promise<void> {
  const funderAddress = await funder.getAddress();
  const tokenAddress = await d.token.getAddress();
  const distributorAddress = await d.distributor.getAddress();
  await sent(d.underlying.mint(funderAddress, amount));
  await sent(d.underlying.connect(funder).approve(tokenAddress, amount));
  await sent(d.token.connect(funder).wrap(funderAddress, amount));
  await sent(d.token.connect(funder).setOperator(distributorAddress, (await latestTimestamp()) + 3600n));
  const input = await encryptAmount(distributorAddress, funderAddress, amount);
  await sent(d.distributor.connect(funder).fundPool(roundId, input.handle, input.inputProof));
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => queue?.stop());
