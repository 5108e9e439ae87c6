// The auditor role: from chain reads/events and blobs alone, re-verifies a round. Every check is named and
// reported; `passed` is true only when every check passed. Checks:
//   inputs-hash           keccak(included hashes in commit order) equals the published inputsHash
//   input-blobs           every included blob is present and hashes to its commitment
//   exclusions            every published exclusion's reason is reproduced from the blobs
//   aggregate-commitment  FedAvg re-run from the included blobs gives the published aggregateHash
//   scores-commitment     encrypted Shapley re-run gives the published scoresHash
//   release-found         the custodian's release record is anchored on-chain and names these outputs
//   global-model          the released global model is within flooding + CKKS error of... (utility consistency)
//   shapley-efficiency    Σφ = U(global) − U(w0) within the flooding tolerance
//   score-release         the record follows the manifest's policy: private lists no φ and no flags; public lists
//                         one φ per contributor whose sum is the released Σφ
//   shares-sum-to-pool    the unallocated pool publicly decrypts to 0 after settlement
import { EXCLUSION_REASON_NAMES, RoundPhase } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { AuditCheck, AuditVerdict } from "@ciphershare/protocol/audit/verdict";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameAddress, type Address, type Hex } from "@ciphershare/protocol/hex";
import { decodeDataset } from "@ciphershare/protocol/records/dataset";
import { decodeModel } from "@ciphershare/protocol/records/model";
import { findReleaseAnchors } from "@ciphershare/protocol/records/release-anchor";
import { decodeReleaseRecord, type ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { decodeRoundManifest, type ScoreRelease } from "@ciphershare/protocol/records/round-manifest";
import { roundConfig } from "@ciphershare/protocol/round/config";
import { includedContributions, inputsHash } from "@ciphershare/protocol/round/inputs";
import type { ChainReader } from "../chain/clients";
import { contractsToRead, readProgram, readRound } from "../chain/contracts";
import { readCommitments, readExclusions } from "../chain/events";
import type { FhevmClient } from "../chain/fhevmClient";
import { squaredErrorUtility } from "../shapley/utility";
import type { BlobStore } from "../storage/blob-store";
import { computeAggregate, computeScores } from "./computation";
import { checkContribution, inputRules } from "./coprocessor";

export type { AuditCheck, AuditVerdict };

export interface AuditOptions {
  readonly deployment: Deployment;
  readonly reader: ChainReader;
  readonly store: BlobStore;
  readonly storeForUri: (uri: string) => BlobStore;
  readonly fhevm: FhevmClient;
  /** Skip the (minute-long) encrypted Shapley re-run; the check is then reported as skipped-and-failed. */
  readonly skipScores?: boolean;
  readonly workers?: number;
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

/** Absolute tolerance of the efficiency identity: flooding and CKKS errors are ~1e-8 on utilities of ~0.1. */
export const EFFICIENCY_TOLERANCE = 1e-5;

export async function auditRound(options: AuditOptions, roundId: bigint): Promise<AuditVerdict> {
  const checks: AuditCheck[] = [];
  const check = (name: string, passed: boolean, detail: string) => checks.push({ name, passed, detail });
  const { deployment, reader, store } = options;
  const { distributor } = contractsToRead(deployment, reader);
  const round = await readRound(deployment, reader, roundId);
  if (round.phase < RoundPhase.ResultsPublished || round.phase === RoundPhase.Challenged) {
    check("results-published", false, `round ${roundId} is in phase ${round.phase}`);
    return { round: Number(roundId), passed: false, checks };
  }
  const program = await readProgram(deployment, reader, round.programId);
  const config = roundConfig(decodeRoundManifest(await store.get(round.manifestHash)), program.valuationMethod);
  const commitments = await readCommitments(reader, deployment, roundId);
  const exclusions = await readExclusions(reader, deployment, roundId);
  const included = includedContributions(commitments, exclusions);

  const recomputedInputs = await inputsHash(included);
  check(
    "inputs-hash",
    recomputedInputs === round.inputsHash.toLowerCase(),
    `${included.length} included inputs → ${recomputedInputs}`,
  );

  const rules = inputRules(config, program.publicKeyHash);
  const envelopes: Uint8Array[] = [];
  const bad: string[] = [];
  for (const c of included) {
    const verdict = await checkContribution(options.storeForUri(c.uri), c, rules);
    if (verdict.included) envelopes.push(verdict.envelope);
    else bad.push(`${c.contributor}: ${EXCLUSION_REASON_NAMES[verdict.reason]}`);
  }
  check("input-blobs", bad.length === 0, bad.length === 0 ? `${included.length} blobs verified` : bad.join("; "));

  const unjustified: string[] = [];
  for (const e of exclusions) {
    const c = commitments.find((x) => sameAddress(x.contributor, e.contributor));
    const verdict = c === undefined ? undefined : await checkContribution(options.storeForUri(c.uri), c, rules);
    if (verdict === undefined || verdict.included || verdict.reason !== e.reason) {
      unjustified.push(
        `${e.contributor}: published ${EXCLUSION_REASON_NAMES[e.reason]}, found ${verdict?.included === false ? EXCLUSION_REASON_NAMES[verdict.reason] : "valid"}`,
      );
    }
  }
  check(
    "exclusions",
    unjustified.length === 0,
    unjustified.length === 0 ? `${exclusions.length} exclusions reproduced` : unjustified.join("; "),
  );

  const base = decodeModel(await store.get(config.baseModel));
  const validation = decodeDataset(await store.get(config.validation));
  if (envelopes.length === included.length && included.length > 0) {
    const ctx = await CkksContext.create(config.parameterSet);
    try {
      const input = {
        ctx,
        bundleBytes: options.skipScores ? new Uint8Array() : await store.get(program.publicKeyHash),
        bundleHash: program.publicKeyHash,
        inputs: envelopes.map((envelope, k) => ({ envelope, sampleCount: included[k].sampleCount })),
        validation,
        base,
        workers: options.workers,
        onProgress: options.onProgress,
      };
      const aggregate = await keccak256(await computeAggregate(input));
      check("aggregate-commitment", aggregate === round.aggregateHash.toLowerCase(), `recomputed ${aggregate}`);
      if (options.skipScores) check("scores-commitment", false, "skipped (--skip-shapley)");
      else {
        const scores = await keccak256(await computeScores(input));
        check("scores-commitment", scores === round.scoresHash.toLowerCase(), `recomputed ${scores}`);
      }
    } finally {
      ctx.dispose();
    }
  } else {
    check("aggregate-commitment", false, "inputs unavailable");
  }

  const release = await findRelease(options, program.custodian, Number(roundId));
  if (release === undefined) {
    check("release-found", false, "no release anchored by the custodian");
  } else {
    const matches =
      release.aggregate.toLowerCase() === round.aggregateHash.toLowerCase() &&
      release.scores.toLowerCase() === round.scoresHash.toLowerCase() &&
      release.contributors.length === included.length &&
      release.contributors.every((a, i) => sameAddress(a, included[i].contributor));
    check(
      "release-found",
      matches,
      `${release.contributors.length} contributors, global model ${release.globalModel.slice(0, 10)}…`,
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

  const unallocatedHandle = await distributor.read.unallocatedOf([roundId]);
  const poolHandle = await distributor.read.poolOf([roundId]);
  if (BigInt(poolHandle) === 0n) {
    check("shares-sum-to-pool", false, "the round's pool was never funded");
  } else {
    const clear = (await options.fhevm.publicDecrypt([poolHandle, unallocatedHandle])).clearValues;
    const pool = clear[poolHandle] as bigint;
    const unallocated = clear[unallocatedHandle] as bigint;
    check(
      "shares-sum-to-pool",
      unallocated === 0n && pool > 0n,
      `pool ${pool}, unallocated after settlement ${unallocated}`,
    );
  }
  return { round: Number(roundId), passed: checks.every((c) => c.passed), checks };
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

/** The custodian's release: the latest anchor transaction it sent to itself for this round. */
export async function findRelease(
  options: Pick<AuditOptions, "deployment" | "reader" | "store">,
  custodian: Address,
  round: number,
): Promise<ReleaseRecord | undefined> {
  const anchors = await findReleaseAnchors(
    options.reader,
    new Map([[round, custodian]]),
    BigInt(options.deployment.deployedAtBlock),
  );
  const found: Hex | undefined = anchors.get(round);
  return found === undefined ? undefined : decodeReleaseRecord(await options.store.get(found));
}
