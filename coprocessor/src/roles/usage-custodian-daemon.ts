// The custodian's pass over usage rounds (docs/usage.md), apart from the coprocessor's (usage-daemon.ts) so that the
// coprocessor's process never loads the custodian's key code.
import { RoundPhase, SettlementState } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { FULL_USAGE_WEIGHT_BPS } from "@ciphershare/protocol/chain/usage-terms";
import type { ChainSigner } from "../chain/clients";
import { contractsToRead, readRound } from "../chain/contracts";
import { readAcceptedPrograms, readFinalizedRounds, readPublishedRounds } from "../chain/events";
import type { FhevmClient } from "../chain/fhevmClient";
import { readUsageTerms } from "../chain/usage-terms";
import type { StateStore } from "../state/store";
import type { BlobStore } from "../storage/blob-store";
import { challengeStep } from "./custodian-verification";
import type { WorkIsolation } from "./isolation";
import type { PublicationVerdict } from "./recompute";
import { auditUsagePeriod } from "./usage-auditor";
import {
  releaseUsagePeriod,
  sealUsageTotals,
  settleUsagePeriod,
  termsMix,
  type ReleasedUsage,
} from "./usage-custodian";
import { isolated, type UsagePass } from "./usage-daemon";

const NAMESPACE = "usage";

/**
 * The custodian's pass over the Finalized usage periods of the programs it accepted: release the totals once
 * (journaled: the flooded totals stay in the custodian's own database, never published), seal each artist's total
 * on-chain to that artist alone, then settle the pool to the artists once it is funded. A period whose settlement is
 * closed is done.
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
  // Published periods in their dispute window, not yet recomputed: the custodian checks them and challenges a wrong one.
  const now = accepted.length === 0 ? 0n : (await signer.reader.getBlock()).timestamp;
  for (const id of accepted.length === 0 ? [] : await readPublishedRounds(signer.reader, deployment)) {
    const round = await readRound(deployment, signer.reader, id);
    if (round.phase !== RoundPhase.ResultsPublished || now > round.disputeDeadline) continue;
    if (!accepted.includes(round.programId) || state.getValue(NAMESPACE, verdictKey(id, round.publication))) continue;
    if ((await readUsageTerms(deployment, signer.reader, round.programId)) !== undefined) due.push(id);
  }
  for (const id of accepted.length === 0 ? [] : await readFinalizedRounds(signer.reader, deployment)) {
    const round = await readRound(deployment, signer.reader, id);
    if (round.phase !== RoundPhase.Finalized || !accepted.includes(round.programId)) continue;
    if ((await readUsageTerms(deployment, signer.reader, round.programId)) === undefined) continue;
    if (Number(await distributor.read.settlementState([id])) !== SettlementState.Open) continue;
    const released = state.getValue(NAMESPACE, `round:${id}:release`) !== undefined;
    const sealed = state.getValue(NAMESPACE, `round:${id}:sealed`) !== undefined;
    if (released && sealed && BigInt(await distributor.read.poolOf([id])) === 0n) continue; // waiting for the pool
    due.push(id);
  }
  return isolated(
    isolation,
    due,
    async (round) => {
      const current = await readRound(deployment, signer.reader, round);
      if (current.phase === RoundPhase.ResultsPublished) return verifyPublishedPeriod(options, round);
      const key = `round:${round}:release`;
      let released = state.getValue<{ totals: number[]; resolution: number }>(NAMESPACE, key);
      if (released === undefined) {
        const fresh: ReleasedUsage = await releaseUsagePeriod(options, round);
        released = { totals: fresh.totals, resolution: fresh.resolution };
        state.setValue(NAMESPACE, key, released);
        options.log?.(`usage round ${round}: released and anchored ${fresh.releaseHash}`);
      }
      const { programId } = await readRound(deployment, signer.reader, round);
      const terms = await readUsageTerms(deployment, signer.reader, programId);
      if (state.getValue(NAMESPACE, `round:${round}:sealed`) === undefined) {
        const count = await sealUsageTotals(options, round, { ...released, terms });
        state.setValue(NAMESPACE, `round:${round}:sealed`, true);
        options.log?.(`usage round ${round}: sealed ${count} artists' usage totals, each to its artist`);
      }
      if (BigInt(await distributor.read.poolOf([round])) === 0n) return "released";
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

function verdictKey(round: bigint, publication: number): string {
  return `round:${round}:publication:${publication}:verdict`;
}

/** The checks of the usage audit that decide whether a published period is right (the release comes later). */
const PUBLICATION_CHECKS = ["exclusions", "period-record", "totals-commitment"];

/**
 * In a published period's dispute window, the custodian re-derives it as the auditor does — every reason byte, the
 * period record, the totals recomputed from the included batches — and records its verdict; a period that does not
 * match is challenged on-chain with the verdict as evidence (`challengeResults`), as federated publications are. At
 * release it recomputes again and refuses a mismatch in any case (`usage-custodian.ts`).
 */
async function verifyPublishedPeriod(
  options: Parameters<typeof usageCustodianPass>[0],
  roundId: bigint,
): Promise<"verified" | "challenged"> {
  const { deployment, signer, state } = options;
  const round = await readRound(deployment, signer.reader, roundId);
  const audit = await auditUsagePeriod(deployment, signer.reader, options.store, roundId, undefined);
  const failed = audit.checks.filter((c) => PUBLICATION_CHECKS.includes(c.name) && !c.passed);
  const verdict: PublicationVerdict = {
    round: Number(roundId),
    publication: round.publication,
    matches: failed.length === 0,
    published: { aggregate: round.aggregateHash, scores: round.scoresHash, inputs: round.inputsHash },
    detail:
      failed.length === 0
        ? "usage period re-derived: exclusions, period record and totals match"
        : failed.map((c) => `${c.name}: ${c.detail}`).join("; "),
  };
  state.setValue(NAMESPACE, verdictKey(roundId, round.publication), { ...verdict } as never);
  options.log?.(
    `usage round ${roundId}: publication ${round.publication} ${verdict.matches ? "verified" : "DOES NOT MATCH"}`,
  );
  if (verdict.matches) return "verified";
  await challengeStep(options, verdict);
  return "challenged";
}
