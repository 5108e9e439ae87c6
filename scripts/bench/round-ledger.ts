// The books of a settled round, for `npm run bench:round`: what was funded, what each contributor claimed, what the
// settlement left unallocated and what stayed unclaimed in the distributor. Pure, so the arithmetic is tested apart
// from the chain (test/scripts/bench/round-ledger.test.ts).

/** A round's token flows, in base units, as decrypted by the bench (the fhEVM mock's debugger). */
export interface RoundFlows {
  /** Σ of every fundPool of the round. */
  readonly pool: bigint;
  /** Each claim's `paid` amount. */
  readonly claimed: readonly bigint[];
  /** The shares the custodian settled, one per included contributor. */
  readonly settled: readonly bigint[];
  /** The distributor's unallocated remainder after completeSettlement (the network's to recover). */
  readonly unallocated: bigint;
  /** What the distributor still holds for the round's contributors after the claims. */
  readonly unclaimed: bigint;
}

export interface RoundLedger {
  readonly pool: bigint;
  readonly claimed: bigint;
  readonly settled: bigint;
  /**
   * pool − Σ claimed − unallocated (recoverable by the network) + any disagreement between the settled shares and
   * the claims and between the distributor's own books and the claims: 0 when every unit ended with its owner.
   */
  readonly lost: bigint;
}

/** A round's books: nothing is lost when the claims add up to the pool and the distributor agrees. */
export function roundLedger(flows: RoundFlows): RoundLedger {
  if (flows.pool < 0n) throw new RangeError(`The pool must not be negative (got ${flows.pool}).`);
  const claimed = flows.claimed.reduce((sum, x) => sum + x, 0n);
  const settled = flows.settled.reduce((sum, x) => sum + x, 0n);
  const absolute = (x: bigint) => (x < 0n ? -x : x);
  // Each discrepancy counts once: units missing from the claims, units the settlement credited but nobody received,
  // and units the distributor's unclaimed balance says it still owes.
  const lost =
    absolute(flows.pool - claimed - flows.unallocated) + absolute(settled - claimed) + absolute(flows.unclaimed);
  return { pool: flows.pool, claimed, settled, lost };
}
