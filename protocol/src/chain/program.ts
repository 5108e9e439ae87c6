// A program's configuration as `createProgram(ProgramConfig)` takes it (contracts/interfaces/IProgramRegistry.sol):
// its parties and key, and the round terms, where 0 means the contract's default.
import type { Address, Hex } from "../hex";
import { ProgramKind, type ProgramKindCode, ValuationMethod } from "./constants";

const ZERO_HASH: Hex = `0x${"0".repeat(64)}`;

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
  /** Default: federated. */
  readonly kind?: ProgramKindCode;
  /** keccak256 of the buyer's key bundle: required for a training program, absent otherwise. */
  readonly buyerKeyHash?: Hex;
  /** keccak256 of the program's canonical JSON terms blob (training: `{features, outputs, lambda, dpEpsilon}`). */
  readonly termsHash?: Hex;
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
    kind: parties.kind ?? ProgramKind.Federated,
    buyerKeyHash: parties.buyerKeyHash ?? ZERO_HASH,
    termsHash: parties.termsHash ?? ZERO_HASH,
  };
}
