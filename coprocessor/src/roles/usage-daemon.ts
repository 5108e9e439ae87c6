// The long-running roles' passes over usage rounds (docs/usage.md): `coprocessor run` and `custodian run` serve the
// rounds of usage programs (programs with on-chain usage terms) next to the federated ones, each round in isolation
// like theirs. The coprocessor publishes a Closed period's totals; the custodian releases a Finalized period's totals
// once, keeps them in its own journal, and settles the pool to the program's artists as soon as it is funded
// (usage-custodian-daemon.ts: kept apart so the coprocessor's process never loads the custodian's key code).
import { RoundPhase } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { sameAddress } from "@ciphershare/protocol/hex";
import type { ChainReader, ChainSigner } from "../chain/clients";
import { readProgram, readRound } from "../chain/contracts";
import { readClosedRounds } from "../chain/events";
import { readUsageTerms } from "../chain/usage-terms";
import type { BlobStore } from "../storage/blob-store";
import type { WorkIsolation } from "./isolation";
import { publishUsagePeriod } from "./usage-coprocessor";

/** Whether round `roundId`'s program has on-chain usage terms (a usage period, served by the passes below). */
export async function isUsageRound(deployment: Deployment, reader: ChainReader, roundId: bigint): Promise<boolean> {
  const { programId } = await readRound(deployment, reader, roundId);
  return (await readUsageTerms(deployment, reader, programId)) !== undefined;
}

/** What a pass did: the rounds done, and those that failed with their reason (retried after a delay). */
export interface UsagePass {
  readonly done: { readonly round: bigint; readonly outcome: string }[];
  readonly failed: { readonly round: bigint; readonly reason: string; readonly attempts: number }[];
}

export async function isolated(
  isolation: WorkIsolation,
  rounds: readonly bigint[],
  serve: (round: bigint) => Promise<string>,
  log?: (line: string) => void,
): Promise<UsagePass> {
  const pass: { done: UsagePass["done"][number][]; failed: UsagePass["failed"][number][] } = { done: [], failed: [] };
  for (const round of rounds) {
    const outcome = await isolation.run(`usage:${round}`, () => serve(round));
    if (outcome.status === "done") pass.done.push({ round, outcome: outcome.value });
    else if (outcome.status === "failed") {
      const { reason, attempts } = outcome.failure;
      log?.(`usage round ${round}: failed (attempt ${attempts}): ${reason}; moving on`);
      pass.failed.push({ round, reason, attempts });
    }
  }
  return pass;
}

/** The coprocessor's pass: publish the totals of every Closed usage period of a program naming this wallet. */
export async function usageCoprocessorPass(
  options: {
    readonly deployment: Deployment;
    readonly signer: ChainSigner;
    readonly store: BlobStore;
    readonly programs?: readonly bigint[];
    readonly log?: (line: string) => void;
  },
  isolation: WorkIsolation,
): Promise<UsagePass> {
  const { deployment, signer } = options;
  const due: bigint[] = [];
  for (const id of await readClosedRounds(signer.reader, deployment)) {
    const round = await readRound(deployment, signer.reader, id);
    if (round.phase !== RoundPhase.Closed) continue;
    if (options.programs !== undefined && !options.programs.includes(round.programId)) continue;
    if (!sameAddress((await readProgram(deployment, signer.reader, round.programId)).coprocessor, signer.address)) {
      continue;
    }
    if ((await readUsageTerms(deployment, signer.reader, round.programId)) !== undefined) due.push(id);
  }
  return isolated(
    isolation,
    due,
    async (round) => {
      const published = await publishUsagePeriod(deployment, signer, options.store, round, undefined);
      options.log?.(`usage round ${round}: published the totals of ${published.record.generations} generations`);
      return "published";
    },
    options.log,
  );
}
