// The one deployment of CipherShare's contracts, for every caller: the CLI and the demo (viem, from the artifacts'
// bytecode) and the contract tests (Hardhat's ethers). Each brings a function that deploys one contract by name.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Abi } from "viem";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { ChainSigner } from "./clients";
import { ChainError } from "./errors";
import { findProjectRoot } from "./localNode";

/** The contracts a deployment consists of, in deployment order, with their artifacts. */
export const DEPLOYED_CONTRACTS = {
  TestERC20: "contracts/mocks/TestERC20.sol/TestERC20.json",
  CipherShareForwarder: "contracts/metatx/CipherShareForwarder.sol/CipherShareForwarder.json",
  RoyaltyToken: "contracts/token/RoyaltyToken.sol/RoyaltyToken.json",
  RoundManager: "contracts/rounds/RoundManager.sol/RoundManager.json",
  AnonymousPayouts: "contracts/payouts/AnonymousPayouts.sol/AnonymousPayouts.json",
  UsageTerms: "contracts/usage/UsageTerms.sol/UsageTerms.json",
  RoyaltyDistributor: "contracts/payouts/RoyaltyDistributor.sol/RoyaltyDistributor.json",
  CustodianCommittee: "contracts/committee/CustodianCommittee.sol/CustodianCommittee.json",
} as const;
export type DeployedContractName = keyof typeof DEPLOYED_CONTRACTS;

/** The royalty token's ERC-7984 metadata. */
export const ROYALTY_TOKEN = {
  name: "CipherShare Royalty",
  symbol: "cROY",
  contractURI: "ipfs://ciphershare/royalty-token.json",
} as const;

/** Deploys one contract with constructor arguments and returns its address once mined. */
export type ContractDeployer = (name: DeployedContractName, args: readonly unknown[]) => Promise<Address>;

/**
 * Test ERC-20 → the ERC-2771 forwarder → RoyaltyToken wrapping the ERC-20 and trusting the forwarder → RoundManager
 * (the hub) → AnonymousPayouts → UsageTerms (the usage programs' artists and rules) → RoyaltyDistributor paying out
 * of the hub's rounds, to a usage program's artists (its constructor binds the anonymous payouts contract to itself) → CustodianCommittee (the custodian of committee programs).
 */
export async function deployCipherShare(deploy: ContractDeployer): Promise<
  Pick<
    Deployment,
    "rounds" | "distributor" | "anonymousPayouts" | "token" | "underlying" | "forwarder" | "committee"
  > & {
    readonly usageTerms: Address;
  }
> {
  const underlying = await deploy("TestERC20", ["Test USD", "tUSD"]);
  const forwarder = await deploy("CipherShareForwarder", []);
  const token = await deploy("RoyaltyToken", [
    underlying,
    ROYALTY_TOKEN.name,
    ROYALTY_TOKEN.symbol,
    ROYALTY_TOKEN.contractURI,
    forwarder,
  ]);
  const rounds = await deploy("RoundManager", []);
  const anonymousPayouts = await deploy("AnonymousPayouts", [rounds]);
  const usageTerms = await deploy("UsageTerms", [rounds]);
  const distributor = await deploy("RoyaltyDistributor", [rounds, anonymousPayouts, usageTerms]);
  const committee = await deploy("CustodianCommittee", [rounds, distributor]);
  return { rounds, distributor, anonymousPayouts, usageTerms, token, underlying, forwarder, committee };
}

/** ABI and bytecode compiled by `hardhat compile` (run `npm run compile` first). */
export function artifact(name: DeployedContractName): { abi: Abi; bytecode: Hex } {
  const path = join(findProjectRoot(__dirname), "artifacts", DEPLOYED_CONTRACTS[name]);
  if (!existsSync(path)) {
    throw new ChainError("Contract artifacts are missing: run `npm run compile` first.", { details: path });
  }
  return JSON.parse(readFileSync(path, "utf8")) as { abi: Abi; bytecode: Hex };
}

/** Deploys the contracts from a plain process with a viem signer; the deployment starts at the current block. */
export async function deployWithSigner(signer: ChainSigner): Promise<Deployment> {
  const deployedAtBlock = Number(await signer.reader.getBlockNumber());
  const contracts = await deployCipherShare(async (name, args) => {
    const { abi, bytecode } = artifact(name);
    const hash = await signer.wallet.deployContract({ abi, bytecode, args: [...args] });
    const receipt = await signer.reader.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success" || !receipt.contractAddress) {
      throw new ChainError(`Deploying ${name} failed.`, { details: hash });
    }
    return receipt.contractAddress;
  });
  return { chainId: signer.reader.chain.id, ...contracts, deployedAtBlock };
}
