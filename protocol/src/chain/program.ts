// A program's configuration as `createProgram(ProgramConfig)` takes it (contracts/interfaces/IProgramRegistry.sol):
// its parties and key, and the round terms, where 0 means the contract's default.
import type { Address, Hex } from "../hex";
import { ValuationMethod } from "./constants";

/** A program's round terms; omitted or 0 means the contract's default. */
export interface ProgramTerms {
  /** Fewest included contributions for a round to count (default 3). */
  readonly minContributors?: number;
  /** Commitments per round (default 2,000, at most 4,000). */
  readonly maxCommitments?: number;
  /** Seconds to finalize after the reveal deadline, and to settle after finalization (default 30 days). */
  readonly recoveryPeriod?: number;
  /** Wei each commitment carries: refunded on inclusion, forfeited to the network on exclusion (default none). */
  readonly commitDeposit?: bigint;
}

/** Who serves a program and under which key. */
export interface ProgramParties {
  readonly coprocessor: Address;
  readonly custodian: Address;
  readonly payoutToken: Address;
  /** keccak256 of the custodian's public bundle. */
  readonly publicKeyHash: Hex;
  /** Default: exact Shapley. */
  readonly valuationMethod?: number;
}

/** The `ProgramConfig` struct of `createProgram`. */
export function programConfig(parties: ProgramParties, terms: ProgramTerms = {}) {
  return {
    coprocessor: parties.coprocessor,
    custodian: parties.custodian,
    payoutToken: parties.payoutToken,
    publicKeyHash: parties.publicKeyHash,
    valuationMethod: parties.valuationMethod ?? ValuationMethod.ExactShapley,
    minContributors: terms.minContributors ?? 0,
    maxCommitments: terms.maxCommitments ?? 0,
    recoveryPeriod: terms.recoveryPeriod ?? 0,
    commitDeposit: terms.commitDeposit ?? 0n,
  };
}
