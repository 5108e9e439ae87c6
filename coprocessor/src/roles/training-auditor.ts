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
import { readCommitments, readReleaseAnchor } from "../chain/events";
import { largestRemainderShares } from "../payouts/shares";
import { releaseTimingCheck, settlementCheck, type AuditOptions } from "./auditor";
import {
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
  const { terms } = await readTrainingProgram(deployment, reader, store, round.programId);
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

  if (released !== undefined && problems.length === 0) {
    const { distributor } = contractsToRead(deployment, reader);
    const poolHandle = await distributor.read.poolOf([roundId]);
    const settled = Number(await distributor.read.settlementState([roundId])) === SettlementState.Completed;
    if (BigInt(poolHandle) !== 0n && settled) {
      const pool = (await options.fhevm.publicDecrypt([poolHandle])).clearValues[poolHandle] as bigint;
      const { shares } = largestRemainderShares(pool, [...released.phi]);
      const sum = shares.reduce((a, b) => a + b, 0n);
      const unpaid = released.phi.every((p, i) => p > 0 || shares[i] === 0n);
      check(
        "payout-shares",
        (sum === pool || released.phi.every((p) => p <= 0)) && unpaid,
        `shares ${shares.join(", ")} of pool ${pool}`,
      );
    }
  }
  check("shares-sum-to-pool", ...(await settlementCheck(options, roundId)));
  return verdict();
}
