// Chain bindings of the CipherShare contracts for plain processes (no Hardhat runtime): ABIs and bytecode from
// `artifacts/`, deployment with ethers `ContractFactory`, transactions with ethers wallets. Events are read with viem
// (`./events`).
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Contract, ContractFactory, JsonRpcProvider, Network, type ContractRunner, type Signer } from "ethers";
import { CipherShareError } from "@ciphershare/protocol/errors";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { findProjectRoot } from "./localNode";

export class ChainBindingError extends CipherShareError {
  override name = "ChainBindingError";
}

const ARTIFACT_PATHS = {
  RoundManager: "contracts/rounds/RoundManager.sol/RoundManager.json",
  RoyaltyDistributor: "contracts/payouts/RoyaltyDistributor.sol/RoyaltyDistributor.json",
  RoyaltyToken: "contracts/token/RoyaltyToken.sol/RoyaltyToken.json",
  TestERC20: "contracts/mocks/TestERC20.sol/TestERC20.json",
} as const;
export type ContractName = keyof typeof ARTIFACT_PATHS;

interface Artifact {
  readonly abi: readonly unknown[];
  readonly bytecode: Hex;
}

const artifactCache = new Map<ContractName, Artifact>();

/** ABI and bytecode compiled by `hardhat compile` (run `npm run compile` first). */
export function artifact(name: ContractName): Artifact {
  const cached = artifactCache.get(name);
  if (cached) return cached;
  const path = join(findProjectRoot(__dirname), "artifacts", ARTIFACT_PATHS[name]);
  if (!existsSync(path)) {
    throw new ChainBindingError("Contract artifacts are missing: run `npm run compile` first.", { details: path });
  }
  const parsed = JSON.parse(readFileSync(path, "utf8")) as Artifact;
  artifactCache.set(name, parsed);
  return parsed;
}

/** Addresses of one CipherShare deployment (the workspace's `deployment.json`). */
export interface Deployment {
  readonly chainId: number;
  readonly rounds: Address;
  readonly distributor: Address;
  readonly token: Address;
  readonly underlying: Address;
  readonly deployedAtBlock: number;
}

/** An ethers provider that never reuses a cached nonce (see docs/runtime.md). */
export function rpcProvider(rpcUrl: string, chainId = 31337): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, Network.from(chainId), { staticNetwork: true, cacheTimeout: -1 });
}

/** Deploys test ERC-20 → RoyaltyToken → RoundManager (hub) → RoyaltyDistributor, as scripts/lib/chain.ts does. */
export async function deployCipherShare(deployer: Signer, chainId: number): Promise<Deployment> {
  const deploy = async (name: ContractName, ...args: unknown[]): Promise<Address> => {
    const { abi, bytecode } = artifact(name);
    const contract = await new ContractFactory(abi as never, bytecode, deployer).deploy(...args);
    await contract.waitForDeployment();
    return (await contract.getAddress()) as Address;
  };
  const startBlock = await deployer.provider!.getBlockNumber();
  const underlying = await deploy("TestERC20", "Test USD", "tUSD");
  const token = await deploy(
    "RoyaltyToken",
    underlying,
    "CipherShare Royalty",
    "cROY",
    "ipfs://ciphershare/royalty.json",
  );
  const rounds = await deploy("RoundManager");
  const distributor = await deploy("RoyaltyDistributor", rounds);
  return { chainId, rounds, distributor, token, underlying, deployedAtBlock: startBlock };
}

export interface CipherShareContracts {
  readonly rounds: Contract;
  readonly distributor: Contract;
  readonly token: Contract;
  readonly underlying: Contract;
}

export function contractsAt(deployment: Deployment, runner: ContractRunner): CipherShareContracts {
  const at = (address: Address, name: ContractName) => new Contract(address, artifact(name).abi as never, runner);
  return {
    rounds: at(deployment.rounds, "RoundManager"),
    distributor: at(deployment.distributor, "RoyaltyDistributor"),
    token: at(deployment.token, "RoyaltyToken"),
    underlying: at(deployment.underlying, "TestERC20"),
  };
}

export const RoundPhase = { None: 0, Open: 1, Closed: 2, ResultsPublished: 3, Challenged: 4, Finalized: 5 } as const;
export const ExclusionReason = { None: 0, BlobMissing: 1, HashMismatch: 2, Malformed: 3, Policy: 4 } as const;
export type ExclusionReasonCode = 1 | 2 | 3 | 4;
export const EXCLUSION_REASON_NAMES: Record<number, string> = {
  1: "blob-missing",
  2: "hash-mismatch",
  3: "malformed",
  4: "policy",
};

export interface RoundState {
  readonly id: bigint;
  readonly programId: bigint;
  readonly commitDeadline: bigint;
  readonly disputeWindow: bigint;
  readonly commitCount: number;
  readonly excludedCount: number;
  readonly phase: number;
  readonly disputeDeadline: bigint;
  readonly baseModelHash: Hex;
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

export async function readRound(rounds: Contract, roundId: bigint): Promise<RoundState> {
  const r = await rounds.getFunction("round")(roundId);
  return {
    id: roundId,
    programId: BigInt(r.programId),
    commitDeadline: BigInt(r.commitDeadline),
    disputeWindow: BigInt(r.disputeWindow),
    commitCount: Number(r.commitCount),
    excludedCount: Number(r.excludedCount),
    phase: Number(r.phase),
    disputeDeadline: BigInt(r.disputeDeadline),
    baseModelHash: r.baseModelHash as Hex,
    aggregateHash: r.aggregateHash as Hex,
    scoresHash: r.scoresHash as Hex,
    inputsHash: r.inputsHash as Hex,
  };
}

export async function readProgram(rounds: Contract, programId: bigint): Promise<ProgramState> {
  const p = await rounds.getFunction("program")(programId);
  return {
    id: programId,
    network: p.network as Address,
    coprocessor: p.coprocessor as Address,
    custodian: p.custodian as Address,
    publicKeyHash: p.publicKeyHash as Hex,
    valuationMethod: Number(p.valuationMethod),
    payoutToken: p.payoutToken as Address,
  };
}

/** Moves the dev chain's clock (Hardhat node only): rounds' deadlines pass without waiting. */
export async function advanceChainTime(provider: JsonRpcProvider, seconds: number): Promise<void> {
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
}

export async function latestTimestamp(provider: JsonRpcProvider): Promise<bigint> {
  const block = await provider.getBlock("latest");
  if (block === null) throw new ChainBindingError("The chain has no latest block.");
  return BigInt(block.timestamp);
}

export {
  readCommitments,
  readExclusions,
  type ChainEvents,
  type CommittedContribution,
  type PublishedExclusion,
} from "./events";
