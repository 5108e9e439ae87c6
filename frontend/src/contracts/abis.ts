// ABIs come from Hardhat's artifacts (`npx hardhat compile`; npm test and app:build compile first).
// Named imports let Vite keep only the ABI, not the bytecode, in the bundle.
import { abi as contributorRegistryArtifactAbi } from "../../../artifacts/contracts/registry/ContributorRegistry.sol/ContributorRegistry.json";
import { abi as programRegistryArtifactAbi } from "../../../artifacts/contracts/programs/ProgramRegistry.sol/ProgramRegistry.json";
import { abi as roundManagerArtifactAbi } from "../../../artifacts/contracts/rounds/RoundManager.sol/RoundManager.json";
import { abi as royaltyDistributorArtifactAbi } from "../../../artifacts/contracts/payouts/RoyaltyDistributor.sol/RoyaltyDistributor.json";
import { abi as royaltyTokenArtifactAbi } from "../../../artifacts/contracts/token/RoyaltyToken.sol/RoyaltyToken.json";
import type { Abi, AbiItem } from "viem";

export const contributorRegistryAbi = contributorRegistryArtifactAbi as Abi;
export const programRegistryAbi = programRegistryArtifactAbi as Abi;
export const roundManagerAbi = roundManagerArtifactAbi as Abi;
export const royaltyDistributorAbi = royaltyDistributorArtifactAbi as Abi;
export const royaltyTokenAbi = royaltyTokenArtifactAbi as Abi;

/**
 * Every custom error of every CipherShare contract, once each: a call into one contract can revert
 * with another's error, and the page should name it either way.
 */
export const cipherShareErrorsAbi: Abi = (() => {
  const seen = new Set<string>();
  const errors: AbiItem[] = [];
  for (const abi of [
    contributorRegistryAbi,
    programRegistryAbi,
    roundManagerAbi,
    royaltyDistributorAbi,
    royaltyTokenAbi,
  ]) {
    for (const item of abi) {
      if (item.type !== "error") continue;
      const key = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
      if (seen.has(key)) continue;
      seen.add(key);
      errors.push(item);
    }
  }
  return errors as Abi;
})();
