// The contracts' enums and limits as the off-chain code names them (contracts/interfaces/IRoundManager.sol,
// IRoyaltyDistributor.sol). Numbers are the Solidity enum values: new ones were appended, old ones never move.

/**
 * A round's life cycle (`IRoundManager.RoundPhase`). Reveal is never stored: `round(id).phase` reports it for an
 * Open round whose commit deadline has passed.
 */
export const RoundPhase = {
  None: 0,
  Open: 1,
  Closed: 2,
  ResultsPublished: 3,
  Challenged: 4,
  Finalized: 5,
  Reveal: 6,
  Cancelled: 7,
} as const;
export type RoundPhaseCode = (typeof RoundPhase)[keyof typeof RoundPhase];

export const ROUND_PHASE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: "none",
  1: "open",
  2: "closed",
  3: "results-published",
  4: "challenged",
  5: "finalized",
  6: "reveal",
  7: "cancelled",
});

/** Why a cancelled round was cancelled (`IRoundManager.CancelReason`). */
export const CancelReason = { None: 0, TooFewRevealed: 1, TooFewIncluded: 2, Expired: 3 } as const;

export const CANCEL_REASON_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: "none",
  1: "too-few-revealed",
  2: "too-few-included",
  3: "expired",
});

/**
 * Why a publication leaves a commitment out (`IRoundManager.ExclusionReason`), one byte per commitment in commit
 * order. 1–4 are the coprocessor's verdicts on revealed blobs; 5 and 6 are decided on-chain (the commitment's status)
 * and the publication must repeat them.
 */
export const ExclusionReason = {
  None: 0,
  BlobMissing: 1,
  HashMismatch: 2,
  Malformed: 3,
  Policy: 4,
  Duplicate: 5,
  Unrevealed: 6,
} as const;
export type ExclusionReasonCode = (typeof ExclusionReason)[keyof typeof ExclusionReason];
/** The reasons the coprocessor decides from a revealed blob (never None, never the on-chain ones). */
export type VerifiedExclusionCode = 1 | 2 | 3 | 4;

export const EXCLUSION_REASON_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: "blob-missing",
  2: "hash-mismatch",
  3: "malformed",
  4: "policy",
  5: "duplicate",
  6: "unrevealed",
});

/** A commitment's on-chain state (`IRoundManager.CommitmentStatus`). */
export const CommitmentStatus = { Sealed: 0, Revealed: 1, Duplicate: 2 } as const;
export type CommitmentStatusCode = (typeof CommitmentStatus)[keyof typeof CommitmentStatus];

/** A round's settlement (`IRoyaltyDistributor.SettlementState`). */
export const SettlementState = { Open: 0, Completed: 1, Recovered: 2 } as const;

/**
 * What a program's rounds compute (`IProgramRegistry.ProgramKind`): federated updates, encrypted-data training (a
 * buyer's model from providers' encrypted statistics, docs/training.md) or usage-metered royalties.
 */
export const ProgramKind = { Federated: 0, Training: 1, Usage: 2 } as const;
export type ProgramKindCode = (typeof ProgramKind)[keyof typeof ProgramKind];

export const PROGRAM_KIND_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: "federated",
  1: "training",
  2: "usage",
});

/** A program's valuation method id (docs/contracts.md): 1 is exact Shapley, the only one the coprocessor runs. */
export const ValuationMethod = { ExactShapley: 1 } as const;

/**
 * Encrypted settlement shares per fhEVM input proof: a proof packs at most 2048 bits, so 32 euint64. The custodian
 * and the contract tests batch by it.
 */
export const SHARES_PER_PROOF = 32;

/**
 * Shares per `settle` call: the exact 128-bit batch sum costs ~293k HCU per share, so 67 fit the fhEVM's 20M HCU per
 * transaction and 68 do not (docs/contracts.md, measured by `npm run bench:chain`).
 */
export const SHARES_PER_SETTLEMENT = 67;

/** Commitments read per `commitments(round, offset, limit)` call: an `eth_call` has a gas cap too. */
export const COMMITMENTS_PER_READ = 500;

/** A program's minimum crowd below which the custodian's policy refuses to accept it (`custodian accept`). */
export const CUSTODIAN_MIN_CONTRIBUTORS = 3;
