// What every role of a usage-metered round (docs/usage.md) derives from the chain and the store alone: the round's
// revealed usage reports, checked against their commitments and the program's usage terms, and their batches; the
// reason byte of each commitment; the program's bundle with its rotation keys (to recompute the totals).
import { ExclusionReason, type ExclusionReasonCode } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { loadPublicBundle, type LoadedPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { decodeRoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { publicationReasons, type RoundCommitment } from "@ciphershare/protocol/round/inputs";
import { CommitmentStatus } from "@ciphershare/protocol/chain/constants";
import { roundConfig } from "@ciphershare/protocol/round/config";
import type { ChainReader } from "../chain/clients";
import { readProgram, readRound, type ProgramState, type RoundState } from "../chain/contracts";
import { readCommitments } from "../chain/events";
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

/** The period's inputs of round `roundId` as the chain and the store show them. */
export async function readUsagePeriod(
  deployment: Deployment,
  reader: ChainReader,
  store: BlobStore,
  roundId: bigint,
  rules: UsageRules,
): Promise<UsagePeriod> {
  const round = await readRound(deployment, reader, roundId);
  const program = await readProgram(deployment, reader, round.programId);
  const config = roundConfig(decodeRoundManifest(await store.get(round.manifestHash)), program.valuationMethod);
  const commitments = await readCommitments(reader, deployment, roundId);
  const revealed = commitments.filter((c) => c.status === CommitmentStatus.Revealed);
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
  const reasons = publicationReasons(commitments, verdicts);
  return {
    round,
    program,
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
