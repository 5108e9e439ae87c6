// What every role of a usage-metered round (docs/usage.md) derives from the chain and the store alone: the round's
// revealed usage reports, checked against their commitments and the program's usage terms, and their batches; the
// reason byte of each commitment; the program's bundle with its rotation keys (to recompute the totals).
import { ExclusionReason, type ExclusionReasonCode } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { loadPublicBundle, type LoadedPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { sameAddress, sameHash, type Hex } from "@ciphershare/protocol/hex";
import { usageRulesOf, type UsageTermsConfig } from "@ciphershare/protocol/chain/usage-terms";
import { decodeRoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { publicationReasons, type RoundCommitment } from "@ciphershare/protocol/round/inputs";
import { CommitmentStatus } from "@ciphershare/protocol/chain/constants";
import { roundConfig } from "@ciphershare/protocol/round/config";
import type { ChainReader } from "../chain/clients";
import { readProgram, readRound, type ProgramState, type RoundState } from "../chain/contracts";
import { readCommitments } from "../chain/events";
import { readUsageTerms } from "../chain/usage-terms";
import type { BlobStore } from "../storage/blob-store";
import { periodInputs, type PeriodInputs, type ReportProblem } from "../usage/period";
import type { UsageRules } from "../usage/rules";
import { readBundleBytes } from "../storage/key-bundle";

export class UsageRoleError extends CipherShareError {
  override name = "UsageRoleError";
}

export interface UsagePeriod {
  readonly round: RoundState;
  readonly program: ProgramState;
  /** The program's on-chain usage terms (undefined for a program without: then the caller's rules apply). */
  readonly terms?: UsageTermsConfig;
  /** The rules the period is checked and aggregated under: the on-chain terms' when the program has them. */
  readonly rules: UsageRules;
  readonly parameterSetId: string;
  readonly commitments: readonly RoundCommitment[];
  readonly inputs: PeriodInputs;
  /** One reason byte per commitment, commit order: what the coprocessor publishes and the auditor reproduces. */
  readonly reasons: Uint8Array;
  /** Commitment index of each excluded report (`inputs.excludedReports[k]` is commitment `excludedReportIndex[k]`). */
  readonly excludedReportIndex: readonly number[];
  /** The included commitments (reports), commit order: their hashes make `inputsHash`. */
  readonly included: readonly RoundCommitment[];
}

const REPORT_REASON: Record<ReportProblem, ExclusionReasonCode> = {
  "blob-missing": ExclusionReason.BlobMissing,
  "hash-mismatch": ExclusionReason.HashMismatch,
  malformed: ExclusionReason.Malformed,
  "wrong-terms": ExclusionReason.Policy,
  "count-mismatch": ExclusionReason.Policy,
};

/**
 * The rules of a usage program: its on-chain terms when it has them (a caller's `rules` must then agree: a role
 * configured for other terms stops before any work), else the caller's `rules`.
 */
export async function resolveUsageRules(
  deployment: Deployment,
  reader: ChainReader,
  programId: bigint,
  rules: UsageRules | undefined,
): Promise<{ rules: UsageRules; terms?: UsageTermsConfig }> {
  const terms = await readUsageTerms(deployment, reader, programId);
  if (terms === undefined) {
    if (rules === undefined) {
      throw new UsageRoleError(
        "The program has no usage terms on-chain: give its contributor count (--contributors).",
        {
          details: `program ${programId}`,
        },
      );
    }
    return { rules };
  }
  const onChain = usageRulesOf(terms);
  if (
    rules !== undefined &&
    (rules.contributors !== onChain.contributors || rules.generationCap !== onChain.generationCap)
  ) {
    throw new UsageRoleError("The given usage rules differ from the program's on-chain terms.", {
      details: `given ${rules.contributors} contributors, cap ${rules.generationCap}; terms ${onChain.contributors}, cap ${onChain.generationCap}`,
    });
  }
  return { rules: { contributors: onChain.contributors, generationCap: onChain.generationCap }, terms };
}

/**
 * The period's inputs of round `roundId` as the chain and the store show them. Under on-chain terms only the
 * operator's reports count: any other committer's report is excluded as Policy before it is read.
 */
export async function readUsagePeriod(
  deployment: Deployment,
  reader: ChainReader,
  store: BlobStore,
  roundId: bigint,
  given: UsageRules | undefined,
): Promise<UsagePeriod> {
  const round = await readRound(deployment, reader, roundId);
  const program = await readProgram(deployment, reader, round.programId);
  const { rules, terms } = await resolveUsageRules(deployment, reader, round.programId, given);
  const config = roundConfig(decodeRoundManifest(await store.get(round.manifestHash)), program.valuationMethod);
  const commitments = await readCommitments(reader, deployment, roundId);
  const isReporter = (c: RoundCommitment) => terms === undefined || sameAddress(c.contributor, terms.operator);
  const revealedByAnyone = commitments.filter((c) => c.status === CommitmentStatus.Revealed);
  const revealed = revealedByAnyone.filter(isReporter);
  const inputs = await periodInputs(
    revealed.map((c) => ({ hash: c.ciphertextHash, committedGenerations: c.sampleCount })),
    async (hash) => ((await store.has(hash)) ? store.get(hash) : undefined),
    {
      round: roundId,
      parameterSetId: config.parameterSet.id,
      publicBundleHash: program.publicKeyHash,
      rules,
      slotCount: config.parameterSet.slotCount,
    },
  );
  const verdicts = new Map<number, ExclusionReasonCode>(
    inputs.excludedReports.map((e) => [revealed[e.index].index, REPORT_REASON[e.reason]]),
  );
  for (const c of revealedByAnyone) if (!isReporter(c)) verdicts.set(c.index, ExclusionReason.Policy);
  const reasons = publicationReasons(commitments, verdicts);
  return {
    round,
    program,
    terms,
    rules,
    parameterSetId: config.parameterSet.id,
    commitments,
    inputs,
    reasons,
    excludedReportIndex: inputs.excludedReports.map((e) => revealed[e.index].index),
    included: commitments.filter((c) => reasons[c.index] === ExclusionReason.None),
  };
}

/** The program's full public bundle (rotation keys included), checked against its on-chain hash. */
export async function loadProgramBundle(
  ctx: CkksContext,
  store: BlobStore,
  publicKeyHash: Hex,
): Promise<LoadedPublicBundle> {
  const bundle = await loadPublicBundle(ctx, await readBundleBytes(store, publicKeyHash));
  if (!sameHash(bundle.hash, publicKeyHash) || bundle.galoisKeys === undefined) {
    bundle.dispose();
    throw new UsageRoleError("The stored bundle is not the program's, or has no rotation keys.", {
      details: `stored ${bundle.hash}, program ${publicKeyHash}`,
    });
  }
  return bundle;
}
