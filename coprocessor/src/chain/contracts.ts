// Typed bindings of the CipherShare contracts: viem contract instances over the ABIs generated from the artifacts
// (protocol/src/chain/abis.ts), so every read, write and event argument is checked against the Solidity signature.
import { getContract } from "viem";
import {
  roundManagerAbi,
  royaltyDistributorAbi,
  royaltyTokenAbi,
  testErc20Abi,
} from "@ciphershare/protocol/chain/abis";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { ChainReader, ChainSigner } from "./clients";

function bind<C extends { public: ChainReader; wallet?: ChainSigner["wallet"] }>(deployment: Deployment, client: C) {
  return {
    rounds: getContract({ address: deployment.rounds, abi: roundManagerAbi, client }),
    distributor: getContract({ address: deployment.distributor, abi: royaltyDistributorAbi, client }),
    token: getContract({ address: deployment.token, abi: royaltyTokenAbi, client }),
    underlying: getContract({ address: deployment.underlying, abi: testErc20Abi, client }),
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
  readonly commitDeadline: bigint;
  readonly disputeWindow: bigint;
  readonly commitCount: number;
  readonly excludedCount: number;
  readonly phase: number;
  readonly disputeDeadline: bigint;
  /** keccak256 of the round manifest (the contract's field is still named `baseModelHash`). */
  readonly manifestHash: Hex;
  readonly aggregateHash: Hex;
  readonly scoresHash: Hex;
  readonly inputsHash: Hex;
}

export interface ProgramState {
  readonly id: bigint;
  readonly network: Address;
  readonly coprocessor: Address;
  readonly custodian: Address;
  readonly publicKeyHash: Hex;
  readonly valuationMethod: number;
  readonly payoutToken: Address;
}

export async function readRound(deployment: Deployment, reader: ChainReader, roundId: bigint): Promise<RoundState> {
  const r = await contractsToRead(deployment, reader).rounds.read.round([roundId]);
  return {
    id: roundId,
    programId: r.programId,
    commitDeadline: BigInt(r.commitDeadline),
    disputeWindow: BigInt(r.disputeWindow),
    commitCount: Number(r.commitCount),
    excludedCount: Number(r.excludedCount),
    phase: Number(r.phase),
    disputeDeadline: BigInt(r.disputeDeadline),
    manifestHash: r.baseModelHash,
    aggregateHash: r.aggregateHash,
    scoresHash: r.scoresHash,
    inputsHash: r.inputsHash,
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
  };
}
