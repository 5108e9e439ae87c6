// The auditor's checks of an encrypted-data training round (docs/training.md), from chain reads/events and public
// blobs alone (a training program's uploads are readable by its coprocessor only, so nothing is recomputed from them):
//   round-record        the round record (its second output) names the aggregate as its masked system and lists
//                       exactly the chain's revealed commitments with their row counts, as many as the publication
//   inputs-hash         keccak(included hashes in commit order) equals the published inputsHash
//   valuation-committed the record commits to a score envelope (stored, hashing to its name) iff the program's terms
//                       value providers, on the terms' validation set
//   release-found       the anchored release record names the round's masked system and, for a valued round, the
//                       record's score envelope, one finite φ per included provider, in the record's order
//   release-after-finalization  as for federated rounds
//   residual-check      the round record's residual challenge seed is keccak(inputs hash ‖ hash of the block of the
//                       round's RoundClosed log) and its Enc(ρ) envelope is stored; the release's flooding σ and
//                       tolerances are the ones public facts give, and the flagged providers are exactly those whose
//                       released |ρ_k| exceeds its tolerance
//   payout-shares       the largest-remainder shares of the public pool over the released φ sum to the pool and pay
//                       nothing to a provider with φ ≤ 0 (what the custodian settled, encrypted, must be these)
//   shares-sum-to-pool  after SettlementCompleted, the unallocated pool publicly decrypts to 0
import { SettlementState } from "@ciphershare/protocol/chain/constants";
import type { AuditCheck, AuditVerdict } from "@ciphershare/protocol/audit/verdict";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameAddress, sameHash } from "@ciphershare/protocol/hex";
import { parseJsonRecord } from "@ciphershare/protocol/records/json";
import { inputsHash } from "@ciphershare/protocol/round/inputs";
import { contractsToRead, readRound } from "../chain/contracts";
import { readCommitments, readReleaseAnchor, readRoundClosedBlock } from "../chain/events";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { noiseParameters } from "../threshold/noise-bound";
import { releasedNoiseStd, smudgingSigma } from "../threshold/flooding";
import { TRAINING_PARAMETER_SET } from "../training/pipeline";
import {
  flaggedResiduals,
  residualChallengeSeed,
  residualErrorBound,
  residualNoiseBound,
  residualTolerance,
} from "../training/residual-check";
import { largestRemainderShares } from "../payouts/shares";
import { releaseTimingCheck, settlementCheck, type AuditOptions } from "./auditor";
import {
  payablePhi,
  readTrainingProgram,
  readTrainingRoundRecord,
  type TrainingReleaseRecord,
  type TrainingRoundRecord,
} from "./training";

/** Appends a training round's checks to `checks` (results-published already there) and returns the verdict. */
export async function auditTrainingRound(
  options: AuditOptions,
  roundId: bigint,
  checks: AuditCheck[],
): Promise<AuditVerdict> {
  const check = (name: string, passed: boolean, detail: string) => checks.push({ name, passed, detail });
  const verdict = () => ({ round: Number(roundId), passed: checks.every((c) => c.passed), checks });
  const { deployment, reader, store } = options;
  const round = await readRound(deployment, reader, roundId);
  const { terms, shape } = await readTrainingProgram(deployment, reader, store, round.programId);
  let record: TrainingRoundRecord;
  try {
    record = await readTrainingRoundRecord(deployment, reader, store, roundId);
  } catch (error) {
    check("round-record", false, error instanceof Error ? error.message : String(error));
    return verdict();
  }
  check("round-record", true, `${record.included.length} providers, ${record.totalRows} rows`);
  const commitments = await readCommitments(reader, deployment, roundId);
  const included = record.included.map((i) => commitments[i.index]);
  const recomputedInputs = await inputsHash(included);
  check(
    "inputs-hash",
    sameHash(recomputedInputs, round.inputsHash),
    `${included.length} included inputs → ${recomputedInputs}`,
  );

  const valuation = record.valuation;
  if (terms.valuation === undefined) {
    check("valuation-committed", valuation === undefined, "the terms value nobody: no score envelope expected");
  } else if (valuation === undefined || !sameHash(valuation.validation, terms.valuation.validation)) {
    check("valuation-committed", false, "the terms value providers, the round record commits to no (or another) φ");
  } else {
    const stored =
      (await store.has(valuation.scores)) &&
      sameHash(await keccak256(await store.get(valuation.scores)), valuation.scores);
    check(
      "valuation-committed",
      stored,
      `Enc(φ) ${valuation.scores}${stored ? "" : " missing or not hashing to its name"}`,
    );
  }

  if (valuation !== undefined) {
    const closing = await readRoundClosedBlock(reader, deployment, roundId);
    const { residuals } = valuation;
    const seedOk =
      closing !== undefined &&
      Number(closing.blockNumber) === residuals?.closingBlock &&
      sameHash(await residualChallengeSeed(round.inputsHash, closing.blockHash), residuals.seed);
    const stored =
      residuals !== undefined &&
      (await store.has(residuals.envelope)) &&
      sameHash(await keccak256(await store.get(residuals.envelope)), residuals.envelope);
    check(
      "residual-challenge",
      seedOk && stored,
      seedOk && stored
        ? `challenge seed ${residuals.seed.slice(0, 10)}… from block ${residuals.closingBlock}`
        : `${seedOk ? "" : "the challenge seed is not keccak(inputs hash ‖ closing block hash); "}${stored ? "" : "Enc(ρ) missing"}`,
    );
  }

  const anchor = await readReleaseAnchor(reader, deployment, roundId);
  if (anchor === undefined) {
    check("release-found", false, "no release anchored (ReleaseAnchored) for the round");
    check("shares-sum-to-pool", ...(await settlementCheck(options, roundId)));
    return verdict();
  }
  const release = parseJsonRecord(await store.get(anchor.releaseHash), "training release") as TrainingReleaseRecord;
  const released = release.valuation;
  const problems: string[] = [];
  if (release.kind !== "ciphershare.training-release")
    problems.push(`not a training release (${String(release.kind)})`);
  if (!sameHash(release.maskedSystem, round.aggregateHash)) problems.push("another masked system");
  if (valuation !== undefined) {
    if (released === undefined) problems.push("no φ for a valued round");
    else {
      if (!sameHash(released.scores, valuation.scores)) problems.push("another score envelope");
      if (
        released.providers.length !== included.length ||
        !released.providers.every((a, i) => sameAddress(a, included[i].contributor))
      ) {
        problems.push("other providers than the included ones");
      }
      if (released.phi.length !== included.length || !released.phi.every(Number.isFinite)) {
        problems.push(`${released.phi.length} φ for ${included.length} providers`);
      }
    }
  }
  check(
    "release-found",
    problems.length === 0,
    problems.length === 0
      ? `U ${release.u.slice(0, 10)}…${released ? `, φ ${released.phi.map((p) => p.toExponential(3)).join(", ")}` : ""}`
      : problems.join("; "),
  );
  check("release-after-finalization", ...(await releaseTimingCheck(options, roundId, round.disputeDeadline, anchor)));
  if (released !== undefined && problems.length === 0 && terms.valuation !== undefined) {
    check(
      "residual-check",
      ...(await residualFlagsCheck(record, released, terms.lambda, terms.valuation.modelNormBound, shape)),
    );
  }

  if (released !== undefined && problems.length === 0) {
    const { distributor } = contractsToRead(deployment, reader);
    const poolHandle = await distributor.read.poolOf([roundId]);
    const settled = Number(await distributor.read.settlementState([roundId])) === SettlementState.Completed;
    if (BigInt(poolHandle) !== 0n && settled) {
      const pool = (await options.fhevm.publicDecrypt([poolHandle])).clearValues[poolHandle] as bigint;
      const phi = payablePhi(released);
      const { shares } = largestRemainderShares(pool, phi);
      const sum = shares.reduce((a, b) => a + b, 0n);
      const unpaid = phi.every((p, i) => p > 0 || shares[i] === 0n);
      check(
        "payout-shares",
        (sum === pool || phi.every((p) => p <= 0)) && unpaid,
        `shares ${shares.join(", ")} of pool ${pool}`,
      );
    }
  }
  check("shares-sum-to-pool", ...(await settlementCheck(options, roundId)));
  return verdict();
}

/**
 * The release's residual verdicts from public facts alone: the flooding σ the custodian's policy gives for the
 * residual's public error bound, each provider's tolerance, and the flagged set they imply for the released ρ.
 */
export async function residualFlagsCheck(
  record: TrainingRoundRecord,
  released: NonNullable<TrainingReleaseRecord["valuation"]>,
  lambda: number,
  modelNormBound: number,
  shape: { features: number; outputs: number },
): Promise<[boolean, string]> {
  const { residuals } = released;
  const providers = record.included.length;
  if (residuals === undefined || residuals.rho.length !== providers || residuals.tolerance.length !== providers) {
    return [false, `no ρ and tolerance for each of the ${providers} providers`];
  }
  if (!sameHash(residuals.envelope, record.valuation?.residuals?.envelope ?? "0x")) {
    return [false, "the release names another residual envelope than the round record"];
  }
  const ctx = await CkksContext.create(TRAINING_PARAMETER_SET);
  try {
    const p = noiseParameters(ctx);
    const inputs = record.included.map((i) => ({ rows: i.rows, lambda, modelNormBound }));
    const worst = inputs.map((i) => residualNoiseBound(p, shape, i)).reduce((a, b) => (a.l2 >= b.l2 ? a : b));
    const sigma = releasedNoiseStd(smudgingSigma(worst.l2), 1, p.polyModulusDegree, worst.scale);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.abs(b);
    if (!close(residuals.floodingSigma, sigma)) {
      return [false, `flooding σ ${residuals.floodingSigma} is not the public bound's ${sigma}`];
    }
    const tolerance = inputs.map((i) =>
      residualTolerance(residualErrorBound(shape, i, p), sigma, p.polyModulusDegree / 2),
    );
    if (!tolerance.every((t, k) => close(residuals.tolerance[k], t))) {
      return [false, `tolerances ${residuals.tolerance.join(", ")} are not the public ${tolerance.join(", ")}`];
    }
    const expected = flaggedResiduals(residuals.rho, tolerance);
    const flagged = residuals.flagged.map((f) => f.position);
    const same = expected.length === flagged.length && expected.every((k, i) => flagged[i] === k);
    return [
      same,
      `ρ ${residuals.rho.map((r) => r.toExponential(2)).join(", ")}; flagged [${flagged.join(", ")}]` +
        (same ? "" : `, expected [${expected.join(", ")}]`),
    ];
  } finally {
    ctx.dispose();
  }
}
