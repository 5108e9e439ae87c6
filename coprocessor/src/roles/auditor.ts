// The auditor role: from chain reads/events and blobs alone, re-verifies a round's standing publication (the one it
// was finalized with; a publication discarded by an upheld challenge does not count). Every check is named and
// reported; `passed` is true only when every check passed. Checks:
//   results-published           the round has a standing publication (results published or finalized)
//   inputs-hash                 keccak(included hashes in commit order) equals the published inputsHash
//   input-blobs                 every included blob is present and hashes to its commitment
//   exclusions                  every reason byte is reproduced: Unrevealed and Duplicate from the chain's statuses
//                               (a Duplicate with the first reveal it copies), the others from the blobs
//   aggregate-commitment        FedAvg re-run from the included blobs gives the published aggregateHash
//   scores-commitment           encrypted Shapley re-run gives the published scoresHash
//   release-found               the custodian's release record is anchored (ReleaseAnchored) and names these outputs
//                               and contributors
//   release-after-finalization  the anchor came after RoundFinalized, for the finalized publication, after the
//                               dispute window
//   release-from-recomputed     the released outputs are those the auditor recomputed from the committed inputs
//   shapley-efficiency          Σφ = U(global) − U(w0) within the flooding tolerance
//   score-release               the record follows the manifest's policy: private lists no φ and no flags; public
//                               lists one φ per contributor whose sum is the released Σφ
//   shares-sum-to-pool          after SettlementCompleted, the unallocated pool publicly decrypts to 0
// A training program's round has its own checks (`training-auditor.ts`).
// The input checks (input-blobs, the exclusions a blob decides, aggregate-commitment, scores-commitment,
// release-from-recomputed) need the round's input ciphertexts, which the blob store serves only to the program's
// coprocessor, custodians and named input auditors (`ProgramRegistry.setInputAuditors`): an auditor refused them
// reports those checks `restricted` (not failed, not verified) and still checks every hash and the release math.
import {
  CommitmentStatus,
  EXCLUSION_REASON_NAMES,
  ExclusionReason,
  ProgramKind,
  ROUND_PHASE_NAMES,
  RoundPhase,
  SettlementState,
} from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { AuditCheck, AuditVerdict } from "@ciphershare/protocol/audit/verdict";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameAddress, sameHash, type Hex } from "@ciphershare/protocol/hex";
import { decodeDataset } from "@ciphershare/protocol/records/dataset";
import { decodeModel } from "@ciphershare/protocol/records/model";
import { decodeReleaseRecord, type ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { decodeRoundManifest, type ScoreRelease } from "@ciphershare/protocol/records/round-manifest";
import { roundConfig } from "@ciphershare/protocol/round/config";
import { includedContributions, inputsHash, type RoundCommitment } from "@ciphershare/protocol/round/inputs";
import type { ChainReader } from "../chain/clients";
import { contractsToRead, readProgram, readRound } from "../chain/contracts";
import { readCommitments, readDuplicates, readFinalization, readReasons, readReleaseAnchor } from "../chain/events";
import type { FhevmClient } from "../chain/fhevmClient";
import { squaredErrorUtility } from "../shapley/utility";
import type { BlobStore, StoreForUri } from "../storage/blob-store";
import { computeAggregate, computeScores } from "./computation";
import { checkContribution, contributionFetchLimits, inputRules, type InputRules } from "./coprocessor";
import { readBundleBytes } from "../storage/key-bundle";
import { auditTrainingRound } from "./training-auditor";

export type { AuditCheck, AuditVerdict };

export interface AuditOptions {
  readonly deployment: Deployment;
  readonly reader: ChainReader;
  readonly store: BlobStore;
  readonly storeForUri: StoreForUri;
  readonly fhevm: FhevmClient;
  /** Skip the (minute-long) encrypted Shapley re-run; the check is then reported as skipped-and-failed. */
  readonly skipScores?: boolean;
  readonly workers?: number;
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

/** Why an unnamed auditor's input checks are not made (`AuditCheck.restricted`). */
export const INPUTS_RESTRICTED =
  "the store serves the round's inputs only to its coprocessor, custodians and named input auditors";

/** Absolute tolerance of the efficiency identity: flooding and CKKS errors are ~1e-8 on utilities of ~0.1. */
export const EFFICIENCY_TOLERANCE = 1e-5;

/** One excluded commitment as the auditor reports it. */
export interface AuditedExclusion {
  readonly index: number;
  readonly contributor: string;
  readonly reason: string;
  /** For a Duplicate: where its hash was revealed first. */
  readonly duplicates?: { readonly round: number; readonly index: number };
}

export async function auditRound(options: AuditOptions, roundId: bigint): Promise<AuditVerdict> {
  const checks: AuditCheck[] = [];
  const check = (name: string, passed: boolean, detail: string) => checks.push({ name, passed, detail });
  /** A check this auditor cannot make: the store serves the round's inputs only to its computing parties. */
  const restricted = (name: string, detail: string) =>
    checks.push({ name, passed: true, restricted: true, detail: `not re-verified (${INPUTS_RESTRICTED}): ${detail}` });
  const { deployment, reader, store } = options;
  const round = await readRound(deployment, reader, roundId);
  if (
    round.publication === 0 ||
    (round.phase !== RoundPhase.ResultsPublished && round.phase !== RoundPhase.Finalized)
  ) {
    check(
      "results-published",
      false,
      `round ${roundId} is ${ROUND_PHASE_NAMES[round.phase]}${round.publication === 0 ? ", with no standing publication" : ""}: nothing to audit`,
    );
    return { round: Number(roundId), passed: false, checks };
  }
  check("results-published", true, `publication ${round.publication} (${ROUND_PHASE_NAMES[round.phase]})`);
  const program = await readProgram(deployment, reader, round.programId);
  if (program.kind === ProgramKind.Training) return auditTrainingRound(options, roundId, checks);
  const config = roundConfig(decodeRoundManifest(await store.get(round.manifestHash)), program.valuationMethod);
  const commitments = await readCommitments(reader, deployment, roundId);
  const reasons = await readReasons(reader, deployment, roundId, round.publication, commitments.length);
  const included = includedContributions(commitments, reasons);

  const recomputedInputs = await inputsHash(included);
  check(
    "inputs-hash",
    sameHash(recomputedInputs, round.inputsHash),
    `${included.length} included inputs → ${recomputedInputs}`,
  );

  const rules = inputRules(config, program.publicKeyHash);
  const envelopes: Uint8Array[] = [];
  const bad: string[] = [];
  let denied = false;
  for (const c of included) {
    const verdict = await checkContribution(options.storeForUri(c.uri, contributionFetchLimits(rules)), c, rules);
    if (verdict.included) envelopes.push(verdict.envelope);
    else if (verdict.accessDenied) {
      denied = true;
      break;
    } else bad.push(`${c.contributor}: ${EXCLUSION_REASON_NAMES[verdict.reason]}`);
  }
  if (denied) restricted("input-blobs", `${included.length} included hashes, committed on-chain (inputs-hash)`);
  else check("input-blobs", bad.length === 0, bad.length === 0 ? `${included.length} blobs verified` : bad.join("; "));

  const exclusions = await auditExclusions(options, roundId, commitments, reasons, rules);
  const reproduced = `${exclusions.excluded.length} exclusions reproduced${exclusions.excluded.length > 0 ? `: ${exclusions.excluded.map(describeExclusion).join("; ")}` : ""}`;
  if (exclusions.unjustified.length === 0 && exclusions.unread.length > 0) {
    restricted("exclusions", `${reproduced}; the reasons of ${exclusions.unread.join(", ")} need their blobs`);
  } else {
    check(
      "exclusions",
      exclusions.unjustified.length === 0,
      exclusions.unjustified.length === 0 ? reproduced : exclusions.unjustified.join("; "),
    );
  }

  const base = decodeModel(await store.get(config.baseModel));
  const validation = decodeDataset(await store.get(config.validation));
  const recomputed: { aggregate?: Hex; scores?: Hex } = {};
  if (envelopes.length === included.length && included.length > 0) {
    const ctx = await CkksContext.create(config.parameterSet);
    try {
      const input = {
        ctx,
        bundleBytes: options.skipScores ? new Uint8Array() : await readBundleBytes(store, program.publicKeyHash),
        bundleHash: program.publicKeyHash,
        inputs: envelopes.map((envelope, k) => ({ envelope, sampleCount: included[k].sampleCount })),
        validation,
        base,
        workers: options.workers,
        onProgress: options.onProgress,
      };
      const aggregate = await keccak256(await computeAggregate(input));
      recomputed.aggregate = aggregate;
      check("aggregate-commitment", sameHash(aggregate, round.aggregateHash), `recomputed ${aggregate}`);
      if (options.skipScores) check("scores-commitment", false, "skipped (--skip-shapley)");
      else {
        const scores = await keccak256(await computeScores(input));
        recomputed.scores = scores;
        check("scores-commitment", sameHash(scores, round.scoresHash), `recomputed ${scores}`);
      }
    } finally {
      ctx.dispose();
    }
  } else if (denied) {
    restricted("aggregate-commitment", "FedAvg is re-run by the program's custodians (committee members)");
    restricted("scores-commitment", "encrypted Shapley is re-run by the program's custodians (committee members)");
  } else {
    check("aggregate-commitment", false, "inputs unavailable");
  }

  const anchor = await readReleaseAnchor(reader, deployment, roundId);
  if (anchor === undefined) {
    check("release-found", false, "no release anchored (ReleaseAnchored) for the round");
  } else {
    const release = decodeReleaseRecord(await store.get(anchor.releaseHash));
    const matches =
      sameHash(release.aggregate, round.aggregateHash) &&
      sameHash(release.scores, round.scoresHash) &&
      release.contributors.length === included.length &&
      release.contributors.every((a, i) => sameAddress(a, included[i].contributor));
    check(
      "release-found",
      matches,
      `${release.contributors.length} contributors, global model ${release.globalModel.slice(0, 10)}…`,
    );
    check("release-after-finalization", ...(await releaseTimingCheck(options, roundId, round.disputeDeadline, anchor)));
    const fromRecomputed =
      recomputed.aggregate !== undefined &&
      recomputed.scores !== undefined &&
      sameHash(release.aggregate, recomputed.aggregate) &&
      sameHash(release.scores, recomputed.scores);
    if (denied) {
      restricted(
        "release-from-recomputed",
        "the released outputs are the published ones (release-found); their recomputation is the custodians'",
      );
    } else
      check(
        "release-from-recomputed",
        fromRecomputed,
        fromRecomputed
          ? "the released outputs are the ones the auditor recomputed from the committed inputs"
          : `released ${release.aggregate} / ${release.scores}, recomputed ${recomputed.aggregate ?? "nothing"} / ${recomputed.scores ?? "nothing"}`,
      );
    const global = decodeModel(await store.get(release.globalModel));
    const uGlobal = squaredErrorUtility(global, validation);
    const uBase = squaredErrorUtility(base, validation);
    const sum = release.phiSum;
    const gap = Math.abs(sum - (uGlobal - uBase));
    check(
      "shapley-efficiency",
      gap <= EFFICIENCY_TOLERANCE,
      `Σφ = ${sum.toExponential(6)}, U(global) − U(w0) = ${(uGlobal - uBase).toExponential(6)}, gap ${gap.toExponential(2)}`,
    );
    check("score-release", ...scoreReleaseCheck(config.scoreRelease, release));
  }

  check("shares-sum-to-pool", ...(await settlementCheck(options, roundId)));
  return { round: Number(roundId), passed: checks.every((c) => c.passed), checks };
}

function describeExclusion(e: AuditedExclusion): string {
  const copy = e.duplicates === undefined ? "" : ` of round ${e.duplicates.round} #${e.duplicates.index}`;
  return `#${e.index} ${e.contributor} ${e.reason}${copy}`;
}

/**
 * The standing publication's exclusions, each reproduced: Unrevealed must be a Sealed commitment and Duplicate a
 * Duplicate one (with the first reveal it copies, from `DuplicateRevealed`); BlobMissing, HashMismatch, Malformed and
 * Policy must be what the auditor's own check of the revealed blob finds.
 */
export async function auditExclusions(
  options: Pick<AuditOptions, "deployment" | "reader" | "storeForUri">,
  roundId: bigint,
  commitments: readonly RoundCommitment[],
  reasons: Uint8Array,
  rules: InputRules,
): Promise<{ excluded: AuditedExclusion[]; unjustified: string[]; unread: string[] }> {
  const duplicates = await readDuplicates(options.reader, options.deployment, roundId);
  const excluded: AuditedExclusion[] = [];
  const unjustified: string[] = [];
  /** Exclusions whose blob the store would not serve this reader (not a named auditor). */
  const unread: string[] = [];
  for (const c of commitments) {
    const reason = reasons[c.index];
    if (reason === ExclusionReason.None) continue;
    const name = EXCLUSION_REASON_NAMES[reason] ?? `unknown reason ${reason}`;
    excluded.push({
      index: c.index,
      contributor: c.contributor,
      reason: name,
      ...(reason === ExclusionReason.Duplicate && duplicates.has(c.index)
        ? { duplicates: duplicates.get(c.index) }
        : {}),
    });
    let found: string;
    if (c.status === CommitmentStatus.Sealed) found = EXCLUSION_REASON_NAMES[ExclusionReason.Unrevealed];
    else if (c.status === CommitmentStatus.Duplicate) found = EXCLUSION_REASON_NAMES[ExclusionReason.Duplicate];
    else {
      const verdict = await checkContribution(options.storeForUri(c.uri, contributionFetchLimits(rules)), c, rules);
      if (!verdict.included && verdict.accessDenied) {
        unread.push(`#${c.index}`);
        continue;
      }
      found = verdict.included ? "valid" : EXCLUSION_REASON_NAMES[verdict.reason];
    }
    if (found !== name) unjustified.push(`#${c.index} ${c.contributor}: published ${name}, found ${found}`);
  }
  return { excluded, unjustified, unread };
}

/** The release was anchored after the round was finalized, for the finalized publication, after its dispute window. */
export async function releaseTimingCheck(
  options: Pick<AuditOptions, "deployment" | "reader">,
  roundId: bigint,
  disputeDeadline: bigint,
  anchor: { publication: number; blockNumber: bigint },
): Promise<[boolean, string]> {
  const finalization = await readFinalization(options.reader, options.deployment, roundId);
  if (finalization === undefined) return [false, "a release is anchored but the round was never finalized"];
  const anchoredAt = (await options.reader.getBlock({ blockNumber: anchor.blockNumber })).timestamp;
  const passed =
    anchor.blockNumber >= finalization.blockNumber &&
    anchor.publication === finalization.publication &&
    anchoredAt > disputeDeadline;
  return [
    passed,
    `finalized publication ${finalization.publication} in block ${finalization.blockNumber}; release of publication ${anchor.publication} anchored in block ${anchor.blockNumber} at ${anchoredAt} (dispute deadline ${disputeDeadline})`,
  ];
}

/** After `completeSettlement`, the unallocated pool is public and must decrypt to 0 (Σ shares = pool). */
export async function settlementCheck(
  options: Pick<AuditOptions, "deployment" | "reader" | "fhevm">,
  roundId: bigint,
): Promise<[boolean, string]> {
  const { distributor } = contractsToRead(options.deployment, options.reader);
  const poolHandle = await distributor.read.poolOf([roundId]);
  if (BigInt(poolHandle) === 0n) return [false, "the round's pool was never funded"];
  const state = Number(await distributor.read.settlementState([roundId]));
  if (state !== SettlementState.Completed) {
    return [false, `the settlement is not completed (state ${state}): the unallocated pool is still private`];
  }
  const unallocatedHandle = await distributor.read.unallocatedOf([roundId]);
  const clear = (await options.fhevm.publicDecrypt([poolHandle, unallocatedHandle])).clearValues;
  const pool = clear[poolHandle] as bigint;
  const unallocated = clear[unallocatedHandle] as bigint;
  return [unallocated === 0n && pool > 0n, `pool ${pool}, unallocated after settlement ${unallocated}`];
}

/** Whether a release record follows its round's score release policy, and why. */
export function scoreReleaseCheck(policy: ScoreRelease, release: ReleaseRecord): [boolean, string] {
  if (policy === "private") {
    const leaks = release.phi !== undefined || release.flagged !== undefined;
    return [!leaks, leaks ? "private round, but the record lists per-contributor scores" : "private: only Σφ"];
  }
  const listed = release.phi ?? [];
  const listedSum = listed.reduce((a, b) => a + b, 0);
  const passed =
    listed.length === release.contributors.length && Math.abs(listedSum - release.phiSum) <= EFFICIENCY_TOLERANCE;
  return [
    passed,
    `public: ${listed.length} φ for ${release.contributors.length} contributors, Σ ${listedSum.toExponential(6)}`,
  ];
}

/** The round's anchored release record (`ReleaseAnchored`), or undefined until the custodian anchored one. */
export async function findRelease(
  options: Pick<AuditOptions, "deployment" | "reader" | "store">,
  roundId: bigint,
): Promise<ReleaseRecord | undefined> {
  const anchor = await readReleaseAnchor(options.reader, options.deployment, roundId);
  return anchor === undefined ? undefined : decodeReleaseRecord(await options.store.get(anchor.releaseHash));
}
