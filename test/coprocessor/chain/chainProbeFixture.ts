import { readFileSync } from "node:fs";
import { join } from "node:path";

import { Contract, ContractFactory, HDNodeWallet, JsonRpcProvider, Mnemonic, type InterfaceAbi } from "ethers";

import { FhevmClient } from "@ciphershare/coprocessor/chain/fhevmClient";
import { findProjectRoot } from "@ciphershare/coprocessor/chain/localNode";

// Hardhat's well-known development mnemonic: the node funds these accounts.
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

export interface ChainProbeFixture {
  provider: JsonRpcProvider;
  wallet: HDNodeWallet;
  probe: Contract;
  client: FhevmClient;
  close(): void;
}

function chainProbeArtifact(): { abi: InterfaceAbi; bytecode: string } {
  const path = join(findProjectRoot(__dirname), "artifacts/contracts/mocks/ChainProbe.sol/ChainProbe.json");
  return JSON.parse(readFileSync(path, "utf8")) as { abi: InterfaceAbi; bytecode: string };
}

/** Connects account `accountIndex` to the node, and to a deployed ChainProbe (deploying one if no address). */
export async function connectChainProbe(
  rpcUrl: string,
  accountIndex: number,
  probeAddress?: string,
): Promise<ChainProbeFixture> {
  // cacheTimeout -1: ethers otherwise reuses a nonce read within 250 ms for back-to-back transactions.
  const provider = new JsonRpcProvider(rpcUrl, 31337, { staticNetwork: true, cacheTimeout: -1 });
  const wallet = HDNodeWallet.fromMnemonic(
    Mnemonic.fromPhrase(HARDHAT_MNEMONIC),
    `m/44'/60'/0'/0/${accountIndex}`,
  ).connect(provider);
  const artifact = chainProbeArtifact();
  let address = probeAddress;
  if (address === undefined) {
    const deployed = await new ContractFactory(artifact.abi, artifact.bytecode, wallet).deploy();
    await deployed.waitForDeployment();
    address = await deployed.getAddress();
  }
  const client = await FhevmClient.connect(provider);
  return {
    provider,
    wallet,
    probe: new Contract(address, artifact.abi, wallet),
    client,
    close: () => provider.destroy(),
  };
}
