import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { advanceChainPast } from "@ciphershare/coprocessor/chain/clients";
import { readRound, type RoundState } from "@ciphershare/coprocessor/chain/contracts";
import { deployWithSigner } from "@ciphershare/coprocessor/chain/deploy";
import {
  closeRound,
  collectForfeitedDeposits,
  createProgram,
  expireRound,
  finalizeRound,
  fundPool,
  openRound,
  recoverPool,
  resolveChallenge,
  setInputAuditors,
} from "@ciphershare/coprocessor/roles/network";
import { committeeAddress } from "@ciphershare/coprocessor/roles/committee-member";
import { OPERATOR_ACCOUNT } from "@ciphershare/coprocessor/roles/operator";
import { setUsageTerms } from "@ciphershare/coprocessor/chain/usage-terms";
import { usageTermsConfig, usageTermsHash, type UsageTermsConfig } from "@ciphershare/protocol/chain/usage-terms";
import { isAddress, keccak256 } from "viem";
import { readJsonFile, ROLE_ACCOUNT, writeJsonFile } from "@ciphershare/coprocessor/roles/workspace";
import { mnistFederatedSetup } from "@ciphershare/coprocessor/simulation/federated";
import { MNIST_CLASSES, MNIST_DIMENSION } from "@ciphershare/coprocessor/simulation/mnist";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { isBytes32Hex, type Address, type Hex } from "@ciphershare/protocol/hex";
import { decodeModel, zeroModel, type LinearModel } from "@ciphershare/protocol/records/model";
import { DEMO_DATA_SEED } from "../../demo/settings";
import { buyerFiles } from "@ciphershare/coprocessor/roles/buyer";
import { assertTrainingShape, valuationFits } from "@ciphershare/coprocessor/training/keys";
import { encodeDataset, type Dataset } from "@ciphershare/protocol/records/dataset";
import { readNpyMatrix } from "./provider";
import {
  decodeTrainingTerms,
  encodeTrainingTerms,
  type TrainingTerms,
} from "@ciphershare/protocol/records/training-terms";

/** Slots of the training parameter set (deep-v2, N = 16384). */
const TRAINING_SLOT_COUNT = 8192;
import { registerWorkspaceCommittee } from "./committee";
import {
  parseBigInt,
  parseInteger,
  reporter,
  roleContext,
  withCommonOptions,
  type CommonOptions,
} from "../roleContext";

type Options = CommonOptions & Record<string, string | boolean | undefined>;

/**
 * A training program's terms from the flags, checked (d, c within the program limit, λ > 0, ε > 0), published to
 * the store as the canonical blob; with the buyer's key hash (the flag, or the workspace's `buyer keygen`).
 */
async function publishTrainingTerms(
  ctx: ReturnType<typeof roleContext>,
  options: Options,
): Promise<{ buyerKeyHash: Hex; termsHash: Hex; terms: TrainingTerms }> {
  const features = parseInteger(options.features as string | undefined, "--features", 1);
  const outputs = parseInteger(options.outputs as string | undefined, "--outputs", 1);
  assertTrainingShape({ features, outputs }, TRAINING_SLOT_COUNT);
  const positive = (flag: string, value: string | boolean | undefined): number => {
    const parsed = Number(value);
    if (typeof value !== "string" || !Number.isFinite(parsed) || parsed <= 0) {
      throw new InvalidInputError(`${flag} must be a positive number.`, { details: `${flag} ${String(value)}` });
    }
    return parsed;
  };
  const lambda = positive("--lambda", options.lambda);
  const dpEpsilon = options.dpEpsilon === undefined ? null : positive("--dp-epsilon", options.dpEpsilon);
  const buyerKeyHash =
    (options.buyerKey as string | undefined) ??
    readJsonFile<{ publicBundleHash: Hex }>(
      buyerFiles(ctx.ws).bundlePointerFile,
      "buyer bundle",
      "pass --buyer-key <hash> or run `ciphershare buyer keygen` first.",
    ).publicBundleHash;
  if (!isBytes32Hex(buyerKeyHash)) {
    throw new InvalidInputError("--buyer-key must be 32 bytes of hex.", { details: buyerKeyHash });
  }
  if (options.validation !== undefined && !valuationFits({ features, outputs }, TRAINING_SLOT_COUNT)) {
    throw new InvalidInputError("A valued training program needs each local model (d × c) to fit one ciphertext.", {
      details: `d·c = ${features * outputs} > ${TRAINING_SLOT_COUNT} slots`,
    });
  }
  const valuation =
    options.validation === undefined
      ? undefined
      : {
          validation: await ctx.store.put(
            encodeDataset(
              await validationDataset(
                options.validation as string,
                options.validationLabels as string | undefined,
                features,
                outputs,
              ),
            ),
          ),
          modelNormBound: positive("--model-norm-bound", options.modelNormBound),
        };
  const bytes = encodeTrainingTerms({ features, outputs, lambda, dpEpsilon, ...(valuation && { valuation }) });
  const termsHash = await ctx.store.put(bytes);
  return { buyerKeyHash: buyerKeyHash as Hex, termsHash, terms: decodeTrainingTerms(bytes) };
}

/** The usage terms' flags (`create-program --kind usage`, `set-usage-terms`). */
function usageTermsOptions(command: Command): Command {
  return command
    .option("--artists <addresses>", "usage: comma-separated artist addresses, in attribution order")
    .option(
      "--artist-accounts <indices>",
      "usage, dev chain: comma-separated development account indices of the artists",
    )
    .option("--operator <address>", `usage: the model operator (default: development account ${OPERATOR_ACCOUNT})`)
    .option("--cap <x>", "usage: per-generation cap on Σ of a generation's attribution", "1")
    .option("--min-generations <n>", "usage: fewest generations a period needs to be released and settled", "100")
    .option(
      "--usage-weight <w>",
      "usage: share of the pool split by usage (e.g. 0.7); the rest by --shapley scores",
      "1",
    )
    .option(
      "--shapley <file.json>",
      "usage, with --usage-weight < 1: the published quality scores (its keccak256 is bound)",
    );
}

/** The usage terms from the flags of `usageTermsOptions`. */
function usageTermsOf(ctx: ReturnType<typeof roleContext>, options: Options): UsageTermsConfig {
  const artists = artistsOf(options, (i) => ctx.devSigner(i).address);
  const weight = Number(options.usageWeight);
  const scoresFile = options.shapley === undefined ? undefined : readFileSync(options.shapley as string);
  if (weight < 1 && scoresFile === undefined) {
    throw new InvalidInputError("--usage-weight below 1 needs --shapley <file.json>.");
  }
  return usageTermsConfig({
    operator: ((options.operator as string | undefined) ?? ctx.devSigner(OPERATOR_ACCOUNT).address) as Address,
    artists,
    cap: Number(options.cap),
    minGenerations: parseInteger(options.minGenerations as string, "--min-generations", 1),
    usageWeight: weight,
    qualityScoresHash: scoresFile === undefined || weight === 1 ? undefined : keccak256(scoresFile),
  });
}

/** The validation set of a training program's valuation: rows [n, d] and integer labels [n] (0 … c−1) as a dataset. */
async function validationDataset(
  rowsPath: string,
  labelsPath: string | undefined,
  features: number,
  outputs: number,
): Promise<Dataset> {
  if (labelsPath === undefined) throw new InvalidInputError("--validation needs --validation-labels <labels.npy>.");
  const x = await readNpyMatrix(rowsPath, "--validation");
  const y = await readNpyMatrix(labelsPath, "--validation-labels");
  if (x.cols !== features || y.cols !== 1 || y.rows !== x.rows || x.data.some((v) => !Number.isFinite(v))) {
    throw new InvalidInputError("The validation set must be finite rows [n, d] and integer labels [n].", {
      details: `rows ${x.rows}×${x.cols}, labels ${y.rows}×${y.cols}, d = ${features}`,
    });
  }
  const labels = Uint8Array.from(y.data);
  if (y.data.some((label) => !Number.isInteger(label) || label < 0 || label >= outputs)) {
    throw new InvalidInputError("A validation label is not a class 0 … c−1.", { details: `c = ${outputs}` });
  }
  return { features: x.data, labels, size: x.rows, dimension: features, classes: outputs };
}

/** `ciphershare network …`: the program operator. */
export function register(program: Command): void {
  const network = program.command("network").description("Network operator: deploy, programs, rounds, pools.");

  withCommonOptions(
    network.command("deploy").description("Deploy the CipherShare contracts (embedded chain)."),
    ROLE_ACCOUNT.network,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const deployment = await deployWithSigner(ctx.signer);
    writeJsonFile(ctx.ws.deploymentFile, deployment);
    reporter(options).result(
      deployment,
      `deployed RoundManager ${deployment.rounds}, RoyaltyDistributor ${deployment.distributor}`,
    );
  });

  const createProgramCommand = withCommonOptions(
    network
      .command("create-program")
      .description("Create a royalty program for a coprocessor, a custodian and the custodian's public bundle.")
      .option("--coprocessor <address>", "coprocessor address (default: development account 1)")
      .option("--custodian <address>", "custodian address (default: development account 2)")
      .option(
        "--committee",
        "custody by the workspace's t-of-n committee (custodian keygen --committee): the committee contract is the custodian",
      )
      .option("--bundle-hash <hash>", "keccak256 of the custodian's public bundle (default: the workspace's)")
      .option("--min-contributors <n>", "fewest included contributions for a round to count (below: cancelled)", "3")
      .option("--max-commitments <n>", "commitments a round takes (at most 4000)", "2000")
      .option(
        "--recovery-period <seconds>",
        "time to finalize after the reveal deadline, and to settle after finalization (then the pool is recoverable)",
        String(30 * 24 * 3600),
      )
      .option(
        "--commit-deposit <wei>",
        "wei each commitment carries: refunded on inclusion, forfeited on exclusion",
        "0",
      )
      .option(
        "--auditors <addresses>",
        "named input auditors, comma-separated: they may read the rounds' input ciphertexts (default: none; the store serves them only to the coprocessor and custodians)",
      )
      .option(
        "--kind <kind>",
        "federated (model updates), training (encrypted data, a model for a buyer) or usage (usage-metered royalties: give the usage terms' flags of `set-usage-terms`)",
        "federated",
      )
      .option("--features <d>", "training: features d per row")
      .option("--outputs <c>", "training: outputs c per row (classes, one-hot)")
      .option("--lambda <l>", "training: ridge regularization λ (the model is (A + λnI)⁻¹B)")
      .option("--dp-epsilon <e>", "training: every provider adds (ε, 1e-5)-DP noise to its statistics")
      .option(
        "--validation <rows.npy>",
        "training: value providers (exact Shapley of their local models) on this validation set [n, d] and pay them from the pool",
      )
      .option("--validation-labels <labels.npy>", "training: the validation set's integer labels [n]")
      .option(
        "--model-norm-bound <C>",
        "training: declared bound ‖W_k‖_F ≤ C of the local models that φ's flooding is sized for",
        "64",
      )
      .option(
        "--buyer-key <hash>",
        "training: keccak256 of the buyer's key bundle (default: the workspace's buyer-bundle.json)",
      ),
    ROLE_ACCOUNT.network,
  );
  usageTermsOptions(createProgramCommand).action(async (options: Options) => {
    const ctx = roleContext(options);
    const training = options.kind === "training" ? await publishTrainingTerms(ctx, options) : undefined;
    if (options.kind !== "training" && options.kind !== "federated" && options.kind !== "usage") {
      throw new InvalidInputError("--kind must be federated, training or usage.", { details: String(options.kind) });
    }
    // A usage program is created bound to its terms' hash, and given the terms right after (docs/usage.md).
    const usage = options.kind === "usage" ? usageTermsOf(ctx, options) : undefined;
    const auditors = options.auditors === undefined ? [] : parseAuditors(options.auditors as string);
    const bundleHash =
      (options.bundleHash as string | undefined) ??
      readJsonFile<{ publicBundleHash: Hex }>(
        ctx.ws.bundlePointerFile,
        "public bundle",
        "run `ciphershare custodian keygen` first.",
      ).publicBundleHash;
    if (!isBytes32Hex(bundleHash)) {
      throw new InvalidInputError("--bundle-hash must be 32 bytes of hex.", { details: bundleHash });
    }
    const terms = {
      minContributors: parseInteger(options.minContributors as string, "--min-contributors", 1),
      maxCommitments: parseInteger(options.maxCommitments as string, "--max-commitments", 1),
      recoveryPeriod: parseInteger(options.recoveryPeriod as string, "--recovery-period", 1),
      commitDeposit: parseBigInt(options.commitDeposit as string, "--commit-deposit"),
    };
    const programId = await createProgram(
      ctx.deployment(),
      ctx.signer,
      {
        coprocessor: ((options.coprocessor as string | undefined) ??
          ctx.devSigner(ROLE_ACCOUNT.coprocessor).address) as Address,
        custodian: options.committee
          ? committeeAddress(ctx.deployment())
          : (((options.custodian as string | undefined) ?? ctx.devSigner(ROLE_ACCOUNT.custodian).address) as Address),
        publicBundleHash: bundleHash,
        training: training && { buyerKeyHash: training.buyerKeyHash, termsHash: training.termsHash },
        usage: usage && { termsHash: usageTermsHash(usage) },
      },
      terms,
    );
    const usageTermsHashSet = usage && (await setUsageTerms(ctx.deployment(), ctx.signer, programId, usage));
    if (auditors.length > 0) await setInputAuditors(ctx.deployment(), ctx.signer, programId, auditors);
    if (options.committee) {
      const setup = await registerWorkspaceCommittee(ctx.ws, ctx.deployment(), ctx.signer, programId);
      reporter(options).say(
        `program ${programId}: committee of ${setup.members.length} (threshold ${setup.threshold}) registered; each member must accept`,
      );
    }
    reporter(options).result(
      {
        programId,
        ...terms,
        kind: String(options.kind),
        ...(training ?? {}),
        ...(usage ? { usageTerms: usage, termsHash: usageTermsHashSet } : {}),
        auditors,
      },
      `program ${programId} created (min ${terms.minContributors} contributors, cap ${terms.maxCommitments}, deposit ${terms.commitDeposit} wei); the custodian must accept it before a round opens`,
    );
  });

  usageTermsOptions(
    withCommonOptions(
      network
        .command("set-usage-terms")
        .description(
          "Give a usage program its terms (docs/usage.md; `create-program --kind usage` does it already): its artists in attribution order are the payees of its rounds, the operator's report is the one that counts. Once, before the custodian accepts, and only the terms whose hash the program was created with.",
        )
        .requiredOption("--program <id>", "program id (created with --kind usage, not yet accepted)"),
      ROLE_ACCOUNT.network,
    ),
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const terms = usageTermsOf(ctx, options);
    const programId = parseBigInt(options.program as string, "--program");
    const termsHash = await setUsageTerms(ctx.deployment(), ctx.signer, programId, terms);
    reporter(options).result(
      { programId, termsHash, ...terms },
      `program ${programId}: usage terms ${termsHash} (${terms.artists.length} artists, operator ${terms.operator})`,
    );
  });

  withCommonOptions(
    network
      .command("set-auditors")
      .description(
        "Name a program's input auditors (replacing any earlier list), before its custodians accept it: they may read its rounds' input ciphertexts.",
      )
      .requiredOption("--program <id>", "program id")
      .requiredOption("--auditors <addresses>", "comma-separated addresses; an empty string names none"),
    ROLE_ACCOUNT.network,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const programId = parseBigInt(options.program as string, "--program");
    const auditors = parseAuditors(options.auditors as string);
    await setInputAuditors(ctx.deployment(), ctx.signer, programId, auditors);
    reporter(options).result(
      { programId, auditors },
      `program ${programId}: ${auditors.length === 0 ? "no input auditors" : `input auditors ${auditors.join(", ")}`}`,
    );
  });

  withCommonOptions(
    network
      .command("open-round")
      .description("Publish the base model, the validation set and its factor R, then open a round.")
      .requiredOption("--program <id>", "program id")
      .option("--base <model>", "base model: `zero`, a blob hash, or a file written by encodeModel", "zero")
      .option(
        "--data-seed <n>",
        "seed of the demo's MNIST split (the validation set is its validation rows)",
        String(DEMO_DATA_SEED),
      )
      .option("--commit-period <seconds>", "seconds contributors have to commit (sealed hashes only)", "3600")
      .option("--reveal-window <seconds>", "seconds after the commit deadline to reveal and upload", "1800")
      .option("--dispute-window <seconds>", "seconds auditors have to challenge published results", "600")
      .option("--public-scores", "release φ per contributor and the flagged ones (default: only Σφ)")
      .option(
        "--no-projection-factor",
        "do not publish the validation factor R (2.5 MB at d = 785): contributors then submit their model alone",
      ),
    ROLE_ACCOUNT.network,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const base = await readBaseModel(String(options.base), ctx.store);
    const setup = mnistFederatedSetup({ seed: parseInteger(options.dataSeed as string, "--data-seed"), clients: 1 });
    const { roundId, manifestHash } = await openRound(ctx.deployment(), ctx.signer, ctx.store, {
      programId: parseBigInt(options.program as string, "--program"),
      base,
      validation: setup.validation,
      commitPeriod: parseInteger(options.commitPeriod as string, "--commit-period", 1),
      revealWindow: parseInteger(options.revealWindow as string, "--reveal-window", 1),
      disputeWindow: parseInteger(options.disputeWindow as string, "--dispute-window", 1),
      scoreRelease: options.publicScores === true ? "public" : "private",
      projectionFactor: options.projectionFactor !== false,
    });
    reporter(options).result({ roundId, manifestHash }, `round ${roundId} open (manifest ${manifestHash})`);
  });

  withCommonOptions(
    network
      .command("fund")
      .description("Mint test tokens, wrap them into the royalty token and fund a round's pool (encrypted amount).")
      .requiredOption("--round <id>", "round id")
      .requiredOption("--amount <units>", "amount in token units (6 decimals)")
      .option("--no-mint", "do not mint the test ERC-20 first (fund from tokens the network already holds)"),
    ROLE_ACCOUNT.network,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const fhevm = await ctx.fhevm();
    try {
      const amount = parseBigInt(options.amount as string, "--amount");
      await fundPool(ctx.deployment(), ctx.signer, fhevm, parseBigInt(options.round as string, "--round"), amount, {
        mint: options.mint !== false,
      });
      reporter(options).result({ funded: amount }, `funded round ${String(options.round)} with ${amount} units`);
    } finally {
      fhevm.destroy();
    }
  });

  // Lifecycle calls anyone may make once a deadline passed; `--advance-time` moves the dev chain's clock past it.
  const lifecycle: [string, string, (round: RoundState) => bigint, typeof closeRound][] = [
    [
      "close",
      "Close a round after its reveal deadline (cancelled if too few revealed).",
      (r) => r.revealDeadline,
      closeRound,
    ],
    [
      "finalize",
      "Finalize a round after its dispute window (cancelled if too few included).",
      (r) => r.disputeDeadline,
      finalizeRound,
    ],
    ["expire", "Cancel a round nobody finalized by its expiry.", (r) => r.expiresAt, expireRound],
  ];
  for (const [name, description, deadlineOf, action] of lifecycle) {
    withCommonOptions(
      network
        .command(name)
        .description(description)
        .requiredOption("--round <id>", "round id")
        .option("--advance-time", "dev chain only: move the clock past the deadline first"),
      ROLE_ACCOUNT.network,
    ).action(async (options: Options) => {
      const ctx = roleContext(options);
      const roundId = parseBigInt(options.round as string, "--round");
      if (options.advanceTime) {
        await advanceChainPast(ctx.reader, deadlineOf(await readRound(ctx.deployment(), ctx.reader, roundId)));
      }
      const outcome = await action(ctx.deployment(), ctx.signer, roundId);
      reporter(options).result(
        { round: roundId, done: name, ...outcome },
        `round ${roundId}: ${outcome.phase}${outcome.cancelReason ? ` (${outcome.cancelReason})` : ""}`,
      );
    });
  }

  withCommonOptions(
    network
      .command("resolve-challenge")
      .description("Rule on a challenged round: upheld discards its publication (the coprocessor publishes anew).")
      .requiredOption("--round <id>", "round id")
      .option("--upheld", "the challenge is right: discard the standing publication")
      .option("--rejected", "the challenge is wrong: the publication stands"),
    ROLE_ACCOUNT.network,
  ).action(async (options: Options) => {
    if (Boolean(options.upheld) === Boolean(options.rejected)) {
      throw new InvalidInputError("Say either --upheld or --rejected.", { details: "resolve-challenge" });
    }
    const ctx = roleContext(options);
    const roundId = parseBigInt(options.round as string, "--round");
    const outcome = await resolveChallenge(ctx.deployment(), ctx.signer, roundId, options.upheld === true);
    reporter(options).result(
      { round: roundId, upheld: options.upheld === true, ...outcome },
      `round ${roundId}: challenge ${options.upheld ? "upheld" : "rejected"}, now ${outcome.phase}`,
    );
  });

  withCommonOptions(
    network
      .command("recover-pool")
      .description(
        "Take back the unallocated pool: a cancelled round's, the remainder of a completed settlement, or what is left after the settlement deadline.",
      )
      .requiredOption("--round <id>", "round id"),
    ROLE_ACCOUNT.network,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const fhevm = await ctx.fhevm();
    try {
      const roundId = parseBigInt(options.round as string, "--round");
      const recovered = await recoverPool(ctx.deployment(), ctx.signer, fhevm, roundId);
      reporter(options).result({ round: roundId, recovered }, `round ${roundId}: recovered ${recovered} units`);
    } finally {
      fhevm.destroy();
    }
  });

  withCommonOptions(
    network
      .command("collect-deposits")
      .description("Collect the commit deposits a concluded round forfeited (unrevealed, duplicate, excluded).")
      .requiredOption("--round <id>", "round id"),
    ROLE_ACCOUNT.network,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
    const roundId = parseBigInt(options.round as string, "--round");
    const collected = await collectForfeitedDeposits(ctx.deployment(), ctx.signer, roundId);
    reporter(options).result(
      { round: roundId, ...collected },
      `round ${roundId}: collected ${collected.count} forfeited deposits (${collected.amount} wei)`,
    );
  });
}

async function readBaseModel(spec: string, store: { get(hash: Hex): Promise<Uint8Array> }): Promise<LinearModel> {
  if (spec === "zero") return zeroModel(MNIST_DIMENSION, MNIST_CLASSES);
  if (isBytes32Hex(spec)) return decodeModel(await store.get(spec));
  if (existsSync(spec)) return decodeModel(new Uint8Array(readFileSync(spec)));
  throw new InvalidInputError("--base must be `zero`, a blob hash or a model file.", { details: spec });
}

/** The artists of `set-usage-terms`: `--artists` addresses or `--artist-accounts` development account indices. */
function artistsOf(options: Options, devAddress: (index: number) => string): Address[] {
  if ((options.artists === undefined) === (options.artistAccounts === undefined)) {
    throw new InvalidInputError("Give the artists with exactly one of --artists or --artist-accounts.");
  }
  const list = String(options.artists ?? options.artistAccounts)
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
  if (options.artists !== undefined) {
    const bad = list.find((a) => !isAddress(a));
    if (bad !== undefined) throw new InvalidInputError("--artists must list addresses.", { details: bad });
    return list as Address[];
  }
  return list.map((i) => devAddress(parseInteger(i, "--artist-accounts", 0)) as Address);
}

/** `--auditors 0xA,0xB`: distinct addresses (an empty string: none). */
export function parseAuditors(value: string): Address[] {
  const auditors = value
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  const bad = auditors.find((a) => !isAddress(a));
  if (bad !== undefined) throw new InvalidInputError("--auditors must be comma-separated addresses.", { details: bad });
  if (new Set(auditors.map((a) => a.toLowerCase())).size !== auditors.length) {
    throw new InvalidInputError("--auditors names an auditor twice.", { details: value });
  }
  return auditors as Address[];
}
