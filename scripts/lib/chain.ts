// Helpers shared by the contract tests, the chain benchmark and the contract-level demo: deploy the CipherShare
// contracts on the Hardhat network (fhEVM mock), create accepted programs, seal commitments, build publications,
// sign gasless registrations, encrypt settlement shares.
import path from "node:path";
import type { Signer } from "ethers";
import { ethers, fhevm, network } from "hardhat";
import {
  COMMITMENTS_PER_READ,
  CommitmentStatus as CommitmentStatuses,
  ExclusionReason as ExclusionReasons,
  SettlementState as SettlementStates,
  SHARES_PER_PROOF,
  type CommitmentStatusCode,
  type ExclusionReasonCode,
} from "@ciphershare/protocol/chain/constants";
import { programConfig, type ProgramTerms } from "@ciphershare/protocol/chain/program";
import { FORWARD_REQUEST_TYPES, FORWARDER_DOMAIN } from "@ciphershare/protocol/chain/forwarder";
import { REGISTER_TYPES, REGISTRY_DOMAIN } from "@ciphershare/protocol/chain/registration";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { publicationReasons, sealOf as protocolSealOf } from "@ciphershare/protocol/round/inputs";
import { deployCipherShare as deployContracts } from "@ciphershare/coprocessor/chain/deploy";
import type {
  AnonymousPayouts,
  CipherShareForwarder,
  ContributorRegistry,
  RoundManager,
  RoyaltyDistributor,
  RoyaltyToken,
  TestERC20,
  UsageTerms,
} from "typechain-types";

export { SHARES_PER_PROOF };

export interface CipherShareDeployment {
  /** The hub: contributor registry, programs and rounds in one contract. */
  rounds: RoundManager;
  distributor: RoyaltyDistributor;
  anonymousPayouts: AnonymousPayouts;
  usageTerms: UsageTerms;
  token: RoyaltyToken;
  underlying: TestERC20;
  forwarder: CipherShareForwarder;
}

/**
 * Deploys the test ERC-20, the royalty token wrapping it, the round manager (hub) and the distributor — the one
 * deployment the CLI makes too (coprocessor/src/chain/deploy.ts), here through Hardhat's ethers.
 */
export async function deployCipherShare(deployer?: Signer): Promise<CipherShareDeployment> {
  const from = deployer ?? (await ethers.getSigners())[0];
  const addresses = await deployContracts(async (name, args) => {
    const contract = await ethers.deployContract(name, [...args], from);
    await contract.waitForDeployment();
    return (await contract.getAddress()) as Address;
  });
  return {
    rounds: await ethers.getContractAt("RoundManager", addresses.rounds, from),
    distributor: await ethers.getContractAt("RoyaltyDistributor", addresses.distributor, from),
    anonymousPayouts: await ethers.getContractAt("AnonymousPayouts", addresses.anonymousPayouts, from),
    usageTerms: await ethers.getContractAt("UsageTerms", addresses.usageTerms, from),
    token: await ethers.getContractAt("RoyaltyToken", addresses.token, from),
    underlying: await ethers.getContractAt("TestERC20", addresses.underlying, from),
    forwarder: await ethers.getContractAt("CipherShareForwarder", addresses.forwarder, from),
  };
}

/** Round terms of a program (`IProgramRegistry.ProgramConfig`); omitted or 0 means the contract's default. */
export type { ProgramTerms };

/** The roles and key of a program (`IProgramRegistry.ProgramConfig` without its terms). */
export interface ProgramRoles {
  coprocessor: string;
  custodian: Signer;
  payoutToken: string;
  publicKeyHash: string;
  valuationMethod: number;
}

/**
 * Creates a program as `network` and has its custodian accept it (a program opens no round before that); returns
 * the program id.
 */
export async function createAcceptedProgram(
  rounds: RoundManager,
  network: Signer,
  roles: ProgramRoles,
  terms: ProgramTerms = {},
): Promise<bigint> {
  const custodian = await roles.custodian.getAddress();
  const config = programConfig(
    {
      coprocessor: roles.coprocessor as Address,
      custodian: custodian as Address,
      payoutToken: roles.payoutToken as Address,
      publicKeyHash: roles.publicKeyHash as Hex,
      valuationMethod: roles.valuationMethod,
    },
    terms,
  );
  await (await rounds.connect(network).createProgram(config)).wait();
  const programId = await rounds.programCount();
  await (await rounds.connect(roles.custodian).acceptProgram(programId)).wait();
  return programId;
}

/** The seal a contributor commits: `keccak256(abi.encode(ciphertextHash, contributor))` (the chain keeps 28 bytes). */
export function sealOf(ciphertextHash: string, contributor: string): string {
  return protocolSealOf(ciphertextHash as Hex, contributor as Address);
}

/** `IRoundManager.ExclusionReason`: one byte per commitment in a publication (the protocol's constants). */
export const ExclusionReason = ExclusionReasons;
export type ExclusionReason = ExclusionReasonCode;

/** `IRoundManager.CommitmentStatus`. */
export const CommitmentStatus = CommitmentStatuses;
export type CommitmentStatus = CommitmentStatusCode;

/** `IRoyaltyDistributor.SettlementState`. */
export const SettlementState = SettlementStates;

/** What the coprocessor passes to `publishResults`: reasons (bytes, one per commitment) and the inputs hash. */
export interface Publication {
  reasons: string;
  inputsHash: string;
  includedIndexes: number[];
}

/** Every commitment of round `roundId`, in commit order, read page by page (an `eth_call` has a gas cap too). */
export async function commitmentsOf(rounds: RoundManager, roundId: bigint) {
  const { commitCount } = await rounds.round(roundId);
  const page = BigInt(COMMITMENTS_PER_READ);
  const pages = [];
  for (let offset = 0n; offset < commitCount; offset += page) {
    pages.push(await rounds.commitments(roundId, offset, page));
  }
  return pages.flat();
}

/**
 * The publication of round `roundId` that the chain accepts, read from its commitments: unrevealed commitments
 * `Unrevealed`, duplicates `Duplicate`, revealed ones `excluded.get(index)` or included.
 */
export async function publicationOf(
  rounds: RoundManager,
  roundId: bigint,
  excluded: ReadonlyMap<number, ExclusionReason> = new Map(),
): Promise<Publication> {
  const commitments = await commitmentsOf(rounds, roundId);
  const reasons = publicationReasons(
    commitments.map((c, index) => ({ index, status: Number(c.status) as CommitmentStatus })),
    excluded,
  );
  const includedIndexes = [...reasons.keys()].filter((index) => reasons[index] === ExclusionReason.None);
  return {
    reasons: ethers.hexlify(reasons),
    inputsHash: inputsHashOf(includedIndexes.map((index) => commitments[index].ciphertextHash)),
    includedIndexes,
  };
}

/**
 * Signs the EIP-712 `Register` message that lets anyone register a contributor with `metadataURI`. The contributor
 * is the signer unless `options.contributor` names another address (a smart-contract wallet the signer owns);
 * the nonce is read from the registry unless given.
 */
export async function signRegistration(
  registry: ContributorRegistry | RoundManager,
  signer: Signer,
  metadataURI: string,
  deadline: bigint,
  options: { contributor?: string; nonce?: bigint } = {},
): Promise<string> {
  const contributor = options.contributor ?? (await signer.getAddress());
  const { chainId } = await ethers.provider.getNetwork();
  return signer.signTypedData(
    { ...REGISTRY_DOMAIN, chainId, verifyingContract: await registry.getAddress() },
    { Register: [...REGISTER_TYPES.Register] },
    { contributor, metadataURI, nonce: options.nonce ?? (await registry.nonces(contributor)), deadline },
  );
}

/** The `inputsHash` the coprocessor publishes: keccak256 of the included ciphertext hashes, in commit order. */
export function inputsHashOf(ciphertextHashes: readonly string[]): string {
  return ethers.keccak256(ethers.concat([...ciphertextHashes]));
}

export interface EncryptedShares {
  handles: string[];
  inputProofs: string[];
}

/** Encrypts `shares` as euint64 inputs of `contract` for `user`, `SHARES_PER_PROOF` per input proof. */
export async function encryptShares(
  contract: string,
  user: string,
  shares: readonly bigint[],
): Promise<EncryptedShares> {
  const handles: string[] = [];
  const inputProofs: string[] = [];
  for (let start = 0; start < shares.length; start += SHARES_PER_PROOF) {
    const input = fhevm.createEncryptedInput(contract, user);
    for (const share of shares.slice(start, start + SHARES_PER_PROOF)) input.add64(share);
    const encrypted = await input.encrypt();
    handles.push(...encrypted.handles.map((h) => ethers.hexlify(h)));
    inputProofs.push(ethers.hexlify(encrypted.inputProof));
  }
  return { handles, inputProofs };
}

/** Encrypts one euint64 input of `contract` for `user`. */
export async function encryptAmount(
  contract: string,
  user: string,
  amount: bigint,
): Promise<{ handle: string; inputProof: string }> {
  const encrypted = await fhevm.createEncryptedInput(contract, user).add64(amount).encrypt();
  return { handle: ethers.hexlify(encrypted.handles[0]), inputProof: ethers.hexlify(encrypted.inputProof) };
}

/** Moves the chain's clock forward by `seconds` and mines a block. */
export async function advanceTime(seconds: number): Promise<void> {
  await network.provider.send("evm_increaseTime", [seconds]);
  await network.provider.send("evm_mine", []);
}

/** Mines a block at `timestamp` (or does nothing when the chain is already past it). */
export async function advanceTo(timestamp: bigint): Promise<void> {
  if ((await latestTimestamp()) >= timestamp) return;
  await network.provider.send("evm_setNextBlockTimestamp", [Number(timestamp)]);
  await network.provider.send("evm_mine", []);
}

/** Timestamp of the latest block. */
export async function latestTimestamp(): Promise<bigint> {
  const block = await ethers.provider.getBlock("latest");
  if (block === null) throw new Error("the chain has no latest block");
  return BigInt(block.timestamp);
}

/**
 * `count` funded signers for bulk scenarios (more contributors than Hardhat's 20 accounts): impersonated
 * addresses derived from `seed`, so no private keys are derived. They can send transactions but not sign
 * messages; use Hardhat's own accounts where a signature or a user decryption is needed.
 */
export async function impersonatedSigners(count: number, seed = 1): Promise<Signer[]> {
  const signers: Signer[] = [];
  for (let i = 0; i < count; i++) {
    const address = ethers.getAddress(ethers.dataSlice(ethers.keccak256(ethers.toBeHex(seed * 1_000_000 + i, 32)), 12));
    await network.provider.send("hardhat_impersonateAccount", [address]);
    await network.provider.send("hardhat_setBalance", [address, "0x56BC75E2D63100000"]);
    signers.push(await ethers.getSigner(address));
  }
  return signers;
}

interface FhevmEnvironmentInternals {
  readonly isDeployed: boolean;
  deploy(): Promise<void>;
}

/**
 * Installs the fhEVM mock host contracts on the in-process Hardhat network when a script runs outside
 * `hardhat test` (which does it by itself). The plugin exposes this step only to its own `test` task, so it is
 * reached through the plugin's internal module, resolved by path because the package's exports hide it.
 */
export async function ensureFhevmMock(): Promise<void> {
  if (network.name !== "hardhat") return;
  const pluginDir = path.dirname(require.resolve("@fhevm/hardhat-plugin/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const extender = require(path.join(pluginDir, "internal", "EnvironmentExtender.js")) as {
    fhevmContext: { get(): FhevmEnvironmentInternals };
  };
  const environment = extender.fhevmContext.get();
  if (!environment.isDeployed) await environment.deploy();
}

/**
 * `signer` (any key, e.g. a fresh payout address without ETH) signs a request for `forwarder` to call `to` with `data`;
 * returns the `ForwardRequestData` a relayer passes to the forwarder's `execute`.
 */
export async function signForwardRequest(
  forwarder: CipherShareForwarder,
  signer: Signer,
  to: string,
  data: string,
  options: { gas?: bigint; deadline?: bigint; nonce?: bigint } = {},
) {
  const from = await signer.getAddress();
  const { chainId } = await ethers.provider.getNetwork();
  const request = {
    from,
    to,
    value: 0n,
    gas: options.gas ?? 3_000_000n,
    nonce: options.nonce ?? (await forwarder.nonces(from)),
    deadline: options.deadline ?? (await latestTimestamp()) + 3600n,
    data,
  };
  const signature = await signer.signTypedData(
    { ...FORWARDER_DOMAIN, chainId, verifyingContract: await forwarder.getAddress() },
    { ForwardRequest: [...FORWARD_REQUEST_TYPES.ForwardRequest] },
    request,
  );
  return { from, to, value: 0n, gas: request.gas, deadline: request.deadline, data, signature };
}
