import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { advanceChainTime, latestTimestamp } from "@ciphershare/coprocessor/chain/clients";
import { readRound } from "@ciphershare/coprocessor/chain/contracts";
import { deployWithSigner } from "@ciphershare/coprocessor/chain/deploy";
import { closeRound, createProgram, finalizeRound, fundPool, openRound } from "@ciphershare/coprocessor/roles/network";
import { readJsonFile, ROLE_ACCOUNT, writeJsonFile } from "@ciphershare/coprocessor/roles/workspace";
import { mnistFederatedSetup } from "@ciphershare/coprocessor/simulation/federated";
import { MNIST_CLASSES, MNIST_DIMENSION } from "@ciphershare/coprocessor/simulation/mnist";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { isBytes32Hex, type Address, type Hex } from "@ciphershare/protocol/hex";
import { decodeModel, zeroModel, type LinearModel } from "@ciphershare/protocol/records/model";
import { DEMO_DATA_SEED } from "../../demo/settings";
import {
  parseBigInt,
  parseInteger,
  reporter,
  roleContext,
  withCommonOptions,
  type CommonOptions,
} from "../roleContext";

type Options = CommonOptions & Record<string, string | boolean | undefined>;

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

  withCommonOptions(
    network
      .command("create-program")
      .description("Create a royalty program for a coprocessor, a custodian and the custodian's public bundle.")
      .option("--coprocessor <address>", "coprocessor address (default: development account 1)")
      .option("--custodian <address>", "custodian address (default: development account 2)")
      .option("--bundle-hash <hash>", "keccak256 of the custodian's public bundle (default: the workspace's)"),
    ROLE_ACCOUNT.network,
  ).action(async (options: Options) => {
    const ctx = roleContext(options);
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
    const programId = await createProgram(ctx.deployment(), ctx.signer, {
      coprocessor: ((options.coprocessor as string | undefined) ??
        ctx.devSigner(ROLE_ACCOUNT.coprocessor).address) as Address,
      custodian: ((options.custodian as string | undefined) ??
        ctx.devSigner(ROLE_ACCOUNT.custodian).address) as Address,
      publicBundleHash: bundleHash,
    });
    reporter(options).result({ programId }, `program ${programId} created`);
  });

  withCommonOptions(
    network
      .command("open-round")
      .description("Publish the base model and validation set, then open a round.")
      .requiredOption("--program <id>", "program id")
      .option("--base <model>", "base model: `zero`, a blob hash, or a file written by encodeModel", "zero")
      .option(
        "--data-seed <n>",
        "seed of the demo's MNIST split (the validation set is its validation rows)",
        String(DEMO_DATA_SEED),
      )
      .option("--commit-period <seconds>", "seconds contributors have to commit", "3600")
      .option("--dispute-window <seconds>", "seconds auditors have to challenge published results", "600")
      .option("--public-scores", "release φ per contributor and the flagged ones (default: only Σφ)"),
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
      disputeWindow: parseInteger(options.disputeWindow as string, "--dispute-window", 1),
      scoreRelease: options.publicScores === true ? "public" : "private",
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

  for (const [name, description, action] of [
    ["close", "Close a round after its commit deadline.", closeRound],
    ["finalize", "Finalize a round after its dispute window.", finalizeRound],
  ] as const) {
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
        const round = await readRound(ctx.deployment(), ctx.reader, roundId);
        const deadline = name === "close" ? round.commitDeadline : round.disputeDeadline;
        const now = await latestTimestamp(ctx.reader);
        if (deadline >= now) await advanceChainTime(ctx.reader, Number(deadline - now) + 1);
      }
      await action(ctx.deployment(), ctx.signer, roundId);
      reporter(options).result({ round: roundId, done: name }, `round ${roundId}: ${name}d`);
    });
  }
}

async function readBaseModel(spec: string, store: { get(hash: Hex): Promise<Uint8Array> }): Promise<LinearModel> {
  if (spec === "zero") return zeroModel(MNIST_DIMENSION, MNIST_CLASSES);
  if (isBytes32Hex(spec)) return decodeModel(await store.get(spec));
  if (existsSync(spec)) return decodeModel(new Uint8Array(readFileSync(spec)));
  throw new InvalidInputError("--base must be `zero`, a blob hash or a model file.", { details: spec });
}
