// The long-running roles' passes over usage rounds (docs/usage.md): `coprocessor run` and `custodian run` serve the
// rounds of usage programs (programs with on-chain usage terms) next to the federated ones, each round in isolation
// like theirs. The coprocessor publishes a Closed period's totals; the custodian releases a Finalized period's totals
// once, keeps them in its own journal, and settles the pool to the program's artists as soon as it is funded.
import { RoundPhase, SettlementState } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { FULL_USAGE_WEIGHT_BPS } from "@ciphershare/protocol/chain/usage-terms";
import { sameAddress } from "@ciphershare/protocol/hex";
import type { ChainReader, ChainSigner } from "../chain/clients";
import { contractsToRead, readProgram, readRound } from "../chain/contracts";
import { readAcceptedPrograms, readClosedRounds, readFinalizedRounds } from "../chain/events";
import type { FhevmClient } from "../chain/fhevmClient";
import { readUsageTerms } from "../chain/usage-terms";
import type { StateStore } from "../state/store";
import type { BlobStore } from "../storage/blob-store";
import type { WorkIsolation } from "./isolation";
import { publishUsagePeriod } from "./usage-coprocessor";
import { releaseUsagePeriod, settleUsagePeriod, termsMix, type ReleasedUsage } from "./usage-custodian";

const NAMESPACE = "usage";

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

async function isolated(
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

/**
 * The custodian's pass over the Finalized usage periods of the programs it accepted: release the totals once
 * (journaled: the flooded totals stay in the custodian's own database, never published), then settle the pool to the
 * artists once it is funded. A period whose settlement is closed is done.
 */
export async function usageCustodianPass(
  options: {
    readonly deployment: Deployment;
    readonly signer: ChainSigner;
    readonly store: BlobStore;
    readonly state: StateStore;
    readonly fhevm: FhevmClient;
    readonly keystorePath: string;
    readonly passphrase: string;
    readonly programs?: readonly bigint[];
    readonly log?: (line: string) => void;
  },
  isolation: WorkIsolation,
): Promise<UsagePass> {
  const { deployment, signer, state } = options;
  const accepted = (await readAcceptedPrograms(signer.reader, deployment, signer.address)).filter(
    (id) => options.programs === undefined || options.programs.includes(id),
  );
  const { distributor } = contractsToRead(deployment, signer.reader);
  const due: bigint[] = [];
  for (const id of accepted.length === 0 ? [] : await readFinalizedRounds(signer.reader, deployment)) {
    const round = await readRound(deployment, signer.reader, id);
    if (round.phase !== RoundPhase.Finalized || !accepted.includes(round.programId)) continue;
    if ((await readUsageTerms(deployment, signer.reader, round.programId)) === undefined) continue;
    if (Number(await distributor.read.settlementState([id])) !== SettlementState.Open) continue;
    const released = state.getValue(NAMESPACE, `round:${id}:release`) !== undefined;
    if (released && BigInt(await distributor.read.poolOf([id])) === 0n) continue; // waiting for the pool
    due.push(id);
  }
  return isolated(
    isolation,
    due,
    async (round) => {
      const key = `round:${round}:release`;
      let released = state.getValue<{ totals: number[]; resolution: number }>(NAMESPACE, key);
      if (released === undefined) {
        const fresh: ReleasedUsage = await releaseUsagePeriod(options, round);
        released = { totals: fresh.totals, resolution: fresh.resolution };
        state.setValue(NAMESPACE, key, released);
        options.log?.(`usage round ${round}: released and anchored ${fresh.releaseHash}`);
      }
      if (BigInt(await distributor.read.poolOf([round])) === 0n) return "released";
      const { programId } = await readRound(deployment, signer.reader, round);
      const terms = await readUsageTerms(deployment, signer.reader, programId);
      // A mix's quality scores are the published file the terms bind, read from the store by its keccak256.
      const mixed = terms !== undefined && terms.usageWeightBps < FULL_USAGE_WEIGHT_BPS;
      const mix =
        terms === undefined
          ? undefined
          : termsMix(terms, mixed ? await options.store.get(terms.qualityScoresHash) : undefined);
      const settled = await settleUsagePeriod(options, round, { ...released, terms }, mix);
      options.log?.(`usage round ${round}: settled the pool of ${settled.pool} to ${settled.artists.length} artists`);
      return "settled";
    },
    options.log,
  );
}
