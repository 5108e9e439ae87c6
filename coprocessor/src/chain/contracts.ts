// Typed bindings of the CipherShare contracts: viem contract instances over the ABIs generated from the artifacts
// (protocol/src/chain/abis.ts), so every read, write and event argument is checked against the Solidity signature.
import { getContract } from "viem";
import {
  anonymousPayoutsAbi,
  cipherShareForwarderAbi,
  roundManagerAbi,
  royaltyDistributorAbi,
  royaltyTokenAbi,
  testErc20Abi,
  usageTermsAbi,
} from "@ciphershare/protocol/chain/abis";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { ChainReader, ChainSigner } from "./clients";

function bind<C extends { public: ChainReader; wallet?: ChainSigner["wallet"] }>(deployment: Deployment, client: C) {
  return {
    rounds: getContract({ address: deployment.rounds, abi: roundManagerAbi, client }),
    distributor: getContract({ address: deployment.distributor, abi: royaltyDistributorAbi, client }),
    anonymousPayouts: getContract({ address: deployment.anonymousPayouts, abi: anonymousPayoutsAbi, client }),
    forwarder: getContract({ address: deployment.forwarder, abi: cipherShareForwarderAbi, client }),
    token: getContract({ address: deployment.token, abi: royaltyTokenAbi, client }),
    underlying: getContract({ address: deployment.underlying, abi: testErc20Abi, client }),
    /** Absent from deployments made before usage programs existed. */
    usageTerms:
      deployment.usageTerms === undefined
        ? undefined
        : getContract({ address: deployment.usageTerms, abi: usageTermsAbi, client }),
  };
}

/** The deployment's contracts for a signing role: `.read.…` and `.write.…` (each write returns its hash). */
export function contractsFor(deployment: Deployment, signer: ChainSigner) {
  return bind(deployment, { public: signer.reader, wallet: signer.wallet });
}

/** The deployment's contracts for reading only (auditor, observers). */
export function contractsToRead(deployment: Deployment, reader: ChainReader) {
  return bind(deployment, { public: reader });
}

/** A round as `RoundManager.round` returns it, with the manifest hash under its meaning (on-chain `baseModelHash`). */
export interface RoundState {
  readonly id: bigint;
  readonly programId: bigint;
  /** `RoundPhase`; Reveal is derived by the contract from the clock. */
  readonly phase: number;
  readonly commitDeadline: bigint;
  readonly revealDeadline: bigint;
  readonly commitCount: number;
  readonly revealedCount: number;
  readonly duplicateCount: number;
  readonly minContributors: number;
  readonly maxCommitments: number;
  /** Wei each commitment carries (the program's term, copied at open). */
  readonly commitDeposit: bigint;
  /** `CancelReason` (0 unless Cancelled). */
  readonly cancelReason: number;
  readonly expiresAt: bigint;
  readonly disputeWindow: bigint;
  /** End of the standing publication's dispute window (0 when none stands). */
  readonly disputeDeadline: bigint;
  /** The standing publication's number (0 before the first and after an upheld challenge). */
  readonly publication: number;
  /** Publications made so far: the next one is `publicationCount + 1`. */
  readonly publicationCount: number;
  /** Contributions the standing publication included. */
  readonly includedCount: number;
  readonly settlementDeadline: bigint;
  readonly challenger: Address;
  /** keccak256 of the round manifest (the contract's field is still named `baseModelHash`). */
  readonly manifestHash: Hex;
  readonly aggregateHash: Hex;
  readonly scoresHash: Hex;
  readonly inputsHash: Hex;
  /** The anchored release record (zero until the custodian anchors it). */
  readonly releaseHash: Hex;
}

export interface ProgramState {
  readonly id: bigint;
  readonly network: Address;
  readonly coprocessor: Address;
  readonly custodian: Address;
  readonly publicKeyHash: Hex;
  readonly valuationMethod: number;
  readonly payoutToken: Address;
  /** Fewest included contributions for a round to count (defaults resolved by the contract). */
  readonly minContributors: number;
  readonly maxCommitments: number;
  /** Seconds: finalize by `revealDeadline + recoveryPeriod`, settle by `finalizedAt + recoveryPeriod`. */
  readonly recoveryPeriod: number;
  readonly commitDeposit: bigint;
  /** `ProgramKind`: federated, training or usage. */
  readonly kind: number;
  /** Training: keccak256 of the buyer's key bundle (zero for the other kinds). */
  readonly buyerKeyHash: Hex;
  /** keccak256 of the program's canonical terms blob (zero when the kind has none). */
  readonly termsHash: Hex;
}

export async function readRound(deployment: Deployment, reader: ChainReader, roundId: bigint): Promise<RoundState> {
  const r = await contractsToRead(deployment, reader).rounds.read.round([roundId]);
  return {
    id: roundId,
    programId: r.programId,
    phase: Number(r.phase),
    commitDeadline: r.commitDeadline,
    revealDeadline: r.revealDeadline,
    commitCount: Number(r.commitCount),
    revealedCount: Number(r.revealedCount),
    duplicateCount: Number(r.duplicateCount),
    minContributors: Number(r.minContributors),
    maxCommitments: Number(r.maxCommitments),
    commitDeposit: r.commitDeposit,
    cancelReason: Number(r.cancelReason),
    expiresAt: r.expiresAt,
    disputeWindow: BigInt(r.disputeWindow),
    disputeDeadline: r.disputeDeadline,
    publication: Number(r.publication),
    publicationCount: Number(r.publicationCount),
    includedCount: Number(r.includedCount),
    settlementDeadline: r.settlementDeadline,
    challenger: r.challenger,
    manifestHash: r.baseModelHash,
    aggregateHash: r.aggregateHash,
    scoresHash: r.scoresHash,
    inputsHash: r.inputsHash,
    releaseHash: r.releaseHash,
  };
}

export async function readProgram(
  deployment: Deployment,
  reader: ChainReader,
  programId: bigint,
): Promise<ProgramState> {
  const p = await contractsToRead(deployment, reader).rounds.read.program([programId]);
  return {
    id: programId,
    network: p.network,
    coprocessor: p.coprocessor,
    custodian: p.custodian,
    publicKeyHash: p.publicKeyHash,
    valuationMethod: Number(p.valuationMethod),
    payoutToken: p.payoutToken,
    minContributors: Number(p.minContributors),
    maxCommitments: Number(p.maxCommitments),
    recoveryPeriod: Number(p.recoveryPeriod),
    commitDeposit: p.commitDeposit,
    kind: Number(p.kind),
    buyerKeyHash: p.buyerKeyHash,
    termsHash: p.termsHash,
  };
}
