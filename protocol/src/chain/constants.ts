// The contracts' enums and limits as the off-chain code names them (contracts/interfaces/IRoundManager.sol).

/** A round's life cycle (`IRoundManager.RoundPhase`). */
export const RoundPhase = { None: 0, Open: 1, Closed: 2, ResultsPublished: 3, Challenged: 4, Finalized: 5 } as const;
export type RoundPhaseCode = (typeof RoundPhase)[keyof typeof RoundPhase];

/** Why the coprocessor left a commitment out of a round (`IRoundManager.ExclusionReason`). */
export const ExclusionReason = { None: 0, BlobMissing: 1, HashMismatch: 2, Malformed: 3, Policy: 4 } as const;
/** The reasons a published exclusion can carry (never None). */
export type ExclusionReasonCode = 1 | 2 | 3 | 4;

export const EXCLUSION_REASON_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: "blob-missing",
  2: "hash-mismatch",
  3: "malformed",
  4: "policy",
});

/** A program's valuation method id (docs/contracts.md): 1 is exact Shapley, the only one the coprocessor runs. */
export const ValuationMethod = { ExactShapley: 1 } as const;

/**
 * Encrypted settlement shares per fhEVM input proof: a proof packs at most 2048 bits, so 32 euint64. The custodian
 * and the contract tests batch by it.
 */
export const SHARES_PER_PROOF = 32;
