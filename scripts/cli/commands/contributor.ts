import type { Command } from "commander";
import { readModelUpdateFile } from "@ciphershare/coprocessor/storage/model-update-file";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import {
  contributorUpdate,
  mnistFederatedSetup,
  type ContributorBehaviour,
} from "@ciphershare/coprocessor/simulation/federated";
import { advanceChainPast, type ChainReader } from "@ciphershare/coprocessor/chain/clients";
import { readRound } from "@ciphershare/coprocessor/chain/contracts";
import { readOwnUsageTotal } from "@ciphershare/coprocessor/chain/usage-terms";
import {
  claimRoyalty,
  owedRoyalty,
  readRoundContext,
  registerContributor,
  revealContribution,
  submitContribution,
  tokenBalance,
  waitForRevealPhase,
  withdrawDeposit,
} from "@ciphershare/coprocessor/roles/contributor";
import {
  CONTRIBUTOR_PASSPHRASE_ENV,
  claimForAddress,
  payoutBalance,
  payoutKeyOf,
  readPayoutKeys,
  sealPayoutAddress,
} from "@ciphershare/coprocessor/roles/anonymous-payouts";
import { requestRelayedClaim } from "@ciphershare/coprocessor/roles/claim-relayer";
import { contributorAccount, ROLE_ACCOUNT, storeUri } from "@ciphershare/coprocessor/roles/workspace";
import type { ModelUpdate } from "@ciphershare/protocol/formats/model-update";
import { modelTensors } from "@ciphershare/protocol/round/config";
import { DEMO_DATA_SEED, DEMO_FREE_RIDER_CLAIM, DEMO_LABEL_SKEW_ALPHA, DEMO_TRAINING } from "../../demo/settings";
import {
  parseBigInt,
  parseInteger,
  reporter,
  roleContext,
  withCommonOptions,
  type CommonOptions,
  type RoleContext,
} from "../roleContext";

export type Options = CommonOptions & Record<string, string | boolean | undefined>;

const BEHAVIOURS: Record<string, (dataSize: number) => ContributorBehaviour> = {
  honest: () => ({ kind: "honest" }),
  poisoned: () => ({ kind: "label-flipping", flip: "shift" }),
  // Returns the base model unchanged and inflates its sample count to weigh more in FedAvg.
  "free-rider": (dataSize) => ({ kind: "free-rider", claimedSampleCount: DEMO_FREE_RIDER_CLAIM * dataSize }),
};

/** The contributor's keystore passphrase (payout keys are sealed with it): `$CIPHERSHARE_CONTRIBUTOR_PASSPHRASE`. */
function contributorPassphrase(): string {
  const value = process.env[CONTRIBUTOR_PASSPHRASE_ENV];
  if (value === undefined || value.length < 8) {
    throw new InvalidInputError(
      `Set ${CONTRIBUTOR_PASSPHRASE_ENV} to your keystore passphrase (at least 8 characters): payout keys are stored encrypted with it.`,
    );
  }
  return value;
}

function contributorCommand(parent: Command, name: string, description: string): Command {
  return withCommonOptions(
    parent
      .command(name)
      .description(description)
      .option("--index <i>", "contributor number: development account 4 + i, and MNIST partition i in the demo", "0"),
  );
}

/** Waits for the reveal phase, or on the dev chain (`--advance-time`) moves the clock past the commit deadline. */
export async function untilRevealPhase(
  deployment: ReturnType<ReturnType<typeof roleContext>["deployment"]>,
  reader: ChainReader,
  roundId: bigint,
  options: Options,
): Promise<void> {
  if (options.advanceTime === true) {
    await advanceChainPast(reader, (await readRound(deployment, reader, roundId)).commitDeadline);
  }
  const timeout = parseInteger((options.timeout as string | undefined) ?? "3600", "--timeout", 1);
  await waitForRevealPhase(deployment, reader, roundId, { timeoutMs: timeout * 1000 });
}

/**
 * Waits for the reveal phase (or moves the dev chain there with --advance-time), then reveals and uploads what this
 * account keeps for the round: a contributor's envelope or an operator's usage report.
 */
export async function revealKept(ctx: RoleContext, roundId: bigint, options: Options) {
  await untilRevealPhase(ctx.deployment(), ctx.reader, roundId, options);
  return revealContribution(ctx.deployment(), ctx.signer, ctx.store, {
    roundId,
    storeUri: storeUri(ctx.ws),
    localDir: ctx.ws.contributorDir(ctx.signer.address),
  });
}

function contributorContext(options: Options) {
  return roleContext(options, contributorAccount(parseInteger(options.index as string, "--index")));
}

/** `ciphershare contributor …`: a data owner. */
export function register(program: Command): void {
  const contributor = program
    .command("contributor")
    .description("Contributor: register, train, encrypt, commit a seal, reveal and upload, claim.");

  contributorCommand(contributor, "register", "Register as a contributor (wallet signature; --gasless: relayed).")
    .option("--gasless", "sign an EIP-712 registration and let the relayer account submit it")
    .option("--metadata-uri <uri>", "public profile URI", "")
    .action(async (options: Options) => {
      const ctx = contributorContext(options);
      const relayer = options.gasless ? ctx.devSigner(ROLE_ACCOUNT.relayer) : undefined;
      const outcome = await registerContributor(ctx.deployment(), ctx.signer, {
        metadataUri: options.metadataUri as string,
        relayer,
      });
      reporter(options).result(
        { address: ctx.signer.address, outcome, gasless: Boolean(options.gasless) },
        `${ctx.signer.address}: ${outcome}`,
      );
    });

  contributorCommand(
    contributor,
    "submit",
    "Train (or import) a model, encrypt it under the program's bundle and commit its seal (the envelope stays here).",
  )
    .requiredOption("--round <id>", "round id")
    .option("--update <file>", "import the model from .npy / .safetensors / .json instead of training")
    .option("--samples <n>", "sample count to claim (default: the local data size)")
    .option("--behaviour <kind>", "demo only: honest | poisoned (label flipping) | free-rider", "honest")
    .option("--clients <n>", "demo data: number of clients the MNIST training rows are split among", "8")
    .option("--data-seed <n>", "demo data: seed of the MNIST split", String(DEMO_DATA_SEED))
    .option("--reveal", "then wait for the reveal phase, reveal and upload (as `contributor reveal`)")
    .option("--advance-time", "with --reveal, dev chain only: move the clock past the commit deadline")
    .option(
      "--no-projection",
      "submit the model alone, without its projection R·w by the round's published validation factor (the coprocessor then projects it)",
    )
    .action(async (options: Options) => {
      const ctx = contributorContext(options);
      const say = reporter(options);
      const roundId = parseBigInt(options.round as string, "--round");
      const deployment = ctx.deployment();
      let update: ModelUpdate;
      let sampleCount: number;
      if (options.update !== undefined) {
        update = await readModelUpdateFile(options.update as string);
        sampleCount = parseInteger(options.samples as string | undefined, "--samples (needed with --update)", 1);
      } else {
        const behaviour = BEHAVIOURS[options.behaviour as string];
        if (behaviour === undefined) {
          throw new InvalidInputError("--behaviour must be honest, poisoned or free-rider.", {
            details: String(options.behaviour),
          });
        }
        const context = await readRoundContext(deployment, ctx.reader, ctx.store, roundId);
        const seed = parseInteger(options.dataSeed as string, "--data-seed");
        const setup = mnistFederatedSetup({
          seed,
          clients: parseInteger(options.clients as string, "--clients", 1),
          alpha: DEMO_LABEL_SKEW_ALPHA,
        });
        const index = parseInteger(options.index as string, "--index");
        const data = setup.clientData[index];
        if (data === undefined)
          throw new InvalidInputError("--index must be below --clients.", { details: `${index}` });
        const trained = contributorUpdate(
          setup,
          index,
          behaviour(data.size),
          context.base,
          Number(roundId),
          seed,
          DEMO_TRAINING,
        );
        update = {
          tensors: modelTensors(trained.model.dimension, trained.model.classes),
          values: trained.model.weights,
        };
        sampleCount =
          options.samples !== undefined ? parseInteger(options.samples as string, "--samples", 1) : trained.sampleCount;
        say.say(`trained locally on ${trained.sampleCount} examples (${String(options.behaviour)})`);
      }
      const localDir = ctx.ws.contributorDir(ctx.signer.address);
      const submitted = await submitContribution(deployment, ctx.signer, ctx.store, {
        roundId,
        update,
        sampleCount,
        localDir,
        cacheDir: localDir,
        projection: options.projection !== false,
      });
      say.say(
        `committed the seal of ${submitted.ciphertextHash} (${submitted.bytes} bytes${submitted.projection ? ", with its projection R·w" : ""}, ${sampleCount} samples, deposit ${submitted.deposit} wei)`,
      );
      if (options.reveal !== true) {
        say.result(
          { address: ctx.signer.address, round: roundId, ...submitted },
          `reveal it with \`ciphershare contributor reveal --round ${roundId}\` once the commit phase is over`,
        );
        return;
      }
      const revealed = await revealKept(ctx, roundId, options);
      say.result(
        { address: ctx.signer.address, round: roundId, ...submitted, ...revealed },
        `revealed and uploaded ${revealed.ciphertextHash}${revealed.duplicate ? " (a DUPLICATE of an earlier reveal: excluded)" : ""}`,
      );
    });

  contributorCommand(
    contributor,
    "reveal",
    "In the round's reveal phase: reveal your committed contribution's hash and the store's URI, then upload it.",
  )
    .requiredOption("--round <id>", "round id")
    .option("--advance-time", "dev chain only: move the clock past the commit deadline instead of waiting")
    .option("--timeout <seconds>", "how long to wait for the reveal phase", "3600")
    .action(async (options: Options) => {
      const ctx = contributorContext(options);
      const roundId = parseBigInt(options.round as string, "--round");
      const revealed = await revealKept(ctx, roundId, options);
      reporter(options).result(
        { address: ctx.signer.address, round: roundId, ...revealed },
        `${revealed.revealed ? "revealed and uploaded" : "already revealed; uploaded"} ${revealed.ciphertextHash}${revealed.duplicate ? " (a DUPLICATE of an earlier reveal: excluded)" : ""}`,
      );
    });

  contributorCommand(
    contributor,
    "withdraw-deposit",
    "Take your commit deposit back from a concluded round (when included, or revealed in a round cancelled early).",
  )
    .requiredOption("--round <id>", "round id")
    .action(async (options: Options) => {
      const ctx = contributorContext(options);
      const roundId = parseBigInt(options.round as string, "--round");
      const outcome = await withdrawDeposit(ctx.deployment(), ctx.signer, roundId);
      reporter(options).result(
        { address: ctx.signer.address, round: roundId, ...outcome },
        outcome.reason === undefined ? `refunded ${outcome.refunded} wei` : `nothing refunded: ${outcome.reason}`,
      );
    });

  contributorCommand(contributor, "royalty", "Decrypt your owed royalty for a round (only you can).")
    .requiredOption("--round <id>", "round id")
    .action(async (options: Options) => {
      const ctx = contributorContext(options);
      const fhevm = await ctx.fhevm();
      try {
        const owed = await owedRoyalty(
          ctx.deployment(),
          ctx.signer,
          fhevm,
          parseBigInt(options.round as string, "--round"),
        );
        reporter(options).result({ address: ctx.signer.address, round: options.round, owed }, `owed: ${owed} units`);
      } finally {
        fhevm.destroy();
      }
    });

  contributorCommand(
    contributor,
    "seal-payout",
    "Generate a fresh payout address for a round (its key stays in your payout keystore, encrypted with $CIPHERSHARE_CONTRIBUTOR_PASSPHRASE) and seal it on-chain, encrypted: your royalty of the round then goes only to that address, through an anonymous claim.",
  )
    .requiredOption("--round <id>", "round id (you must have committed to it; before the custodian settles you)")
    .action(async (options: Options) => {
      const ctx = contributorContext(options);
      const fhevm = await ctx.fhevm();
      try {
        const roundId = parseBigInt(options.round as string, "--round");
        const sealed = await sealPayoutAddress(
          ctx.deployment(),
          ctx.signer,
          fhevm,
          ctx.ws.contributorDir(ctx.signer.address),
          roundId,
          contributorPassphrase(),
        );
        reporter(options).result(
          { address: ctx.signer.address, round: options.round, ...sealed },
          `${sealed.sealed === "sealed" ? "sealed" : "already sealed"} payout address ${sealed.payTo} (entry ${sealed.index} of round ${String(options.round)})`,
        );
      } finally {
        fhevm.destroy();
      }
    });

  contributorCommand(
    contributor,
    "claim",
    "Claim your royalty for a settled round; prints your decrypted owed amount. --anonymous: claim for your sealed payout address instead, sent by a relayer, never by your account.",
  )
    .requiredOption("--round <id>", "round id")
    .option("--anonymous", "claim for the payout address sealed with `seal-payout` (sent by the relayer account)")
    .option("--relay <url>", "with --anonymous: queue the claim at this relay (the app's URL), sent at its next batch")
    .action(async (options: Options) => {
      const ctx = contributorContext(options);
      const roundId = parseBigInt(options.round as string, "--round");
      if (options.relay !== undefined && options.anonymous !== true) {
        throw new InvalidInputError("--relay needs --anonymous.", { details: `--relay ${String(options.relay)}` });
      }
      if (options.anonymous === true) {
        const key = await payoutKeyOf(ctx.ws.contributorDir(ctx.signer.address), roundId, contributorPassphrase());
        if (typeof options.relay === "string") {
          const queued = await requestRelayedClaim(options.relay, { to: key.address, rounds: [roundId] });
          reporter(options).result(
            { round: options.round, payTo: key.address, relayed: true, ...queued },
            `claim for ${key.address} ${queued.status}; the relay sends its next batch at ${new Date(queued.scheduledAt).toISOString()}`,
          );
          return;
        }
        const sent = await claimForAddress(ctx.deployment(), ctx.devSigner(ROLE_ACCOUNT.relayer), key.address, [
          roundId,
        ]);
        const fhevm = await ctx.fhevm();
        try {
          const balance = await payoutBalance(ctx.deployment(), ctx.reader, fhevm, key);
          reporter(options).result(
            { round: options.round, payTo: key.address, relayed: false, transactions: sent.transactions, balance },
            `claimed for ${key.address} (${sent.transactions} transaction${sent.transactions === 1 ? "" : "s"} from the relayer account); its balance: ${balance} units`,
          );
        } finally {
          fhevm.destroy();
        }
        return;
      }
      const fhevm = await ctx.fhevm();
      try {
        const owed = await owedRoyalty(ctx.deployment(), ctx.signer, fhevm, roundId);
        await claimRoyalty(ctx.deployment(), ctx.signer, roundId);
        const balance = await tokenBalance(ctx.deployment(), ctx.signer, fhevm);
        reporter(options).result(
          { address: ctx.signer.address, round: options.round, claimed: owed, balance },
          `claimed ${owed} units; balance ${balance}`,
        );
      } finally {
        fhevm.destroy();
      }
    });

  contributorCommand(
    contributor,
    "usage",
    "An artist of a usage program: decrypt your own usage total of a released period (sealed to you alone by the custodian; docs/usage.md).",
  )
    .requiredOption("--round <id>", "round id (the usage period)")
    .action(async (options: Options) => {
      const ctx = contributorContext(options);
      const roundId = parseBigInt(options.round as string, "--round");
      const fhevm = await ctx.fhevm();
      try {
        const own = await readOwnUsageTotal(ctx.deployment(), ctx.signer, fhevm, roundId);
        reporter(options).result(
          { address: ctx.signer.address, round: roundId, ...own },
          own.sealed
            ? `your usage in round ${roundId}: ${own.total.toFixed(6)} (${own.units} millionths)`
            : `round ${roundId}: no usage total sealed for ${ctx.signer.address} (not released yet, or not an artist)`,
        );
      } finally {
        fhevm.destroy();
      }
    });

  contributorCommand(
    contributor,
    "balance",
    "Decrypt your confidential royalty-token balance (--payout: your fresh payout addresses', each signing with its key).",
  )
    .option("--payout", "the balances of the payout addresses in your payout keystore")
    .action(async (options: Options) => {
      const ctx = contributorContext(options);
      const fhevm = await ctx.fhevm();
      try {
        if (options.payout === true) {
          const payouts = [];
          const dir = ctx.ws.contributorDir(ctx.signer.address);
          for (const key of await readPayoutKeys(dir, contributorPassphrase())) {
            payouts.push({
              round: key.round,
              payTo: key.address,
              balance: await payoutBalance(ctx.deployment(), ctx.reader, fhevm, key),
            });
          }
          const total = payouts.reduce((sum, p) => sum + p.balance, 0n);
          reporter(options).result(
            { address: ctx.signer.address, payouts, total },
            payouts.length === 0
              ? "no payout address: run `contributor seal-payout` first"
              : payouts.map((p) => `round ${p.round}: ${p.payTo} ${p.balance} units`).join("\n") + `\ntotal ${total}`,
          );
          return;
        }
        const balance = await tokenBalance(ctx.deployment(), ctx.signer, fhevm);
        reporter(options).result({ address: ctx.signer.address, balance }, `balance: ${balance} units`);
      } finally {
        fhevm.destroy();
      }
    });
}
