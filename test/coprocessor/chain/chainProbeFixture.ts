import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getContract, type Hex } from "viem";
import { chainProbeAbi } from "@ciphershare/protocol/chain/abis";
import type { Address } from "@ciphershare/protocol/hex";
import {
  chainReader,
  chainSigner,
  roleAccount,
  type ChainReader,
  type ChainSigner,
} from "@ciphershare/coprocessor/chain/clients";
import { FhevmClient } from "@ciphershare/coprocessor/chain/fhevmClient";
import { findProjectRoot } from "@ciphershare/coprocessor/chain/localNode";

export interface ChainProbeFixture {
  readonly reader: ChainReader;
  readonly signer: ChainSigner;
  readonly probeAddress: Address;
  readonly probe: ReturnType<typeof bindProbe>;
  readonly client: FhevmClient;
  close(): void;
}

function bindProbe(address: Address, signer: ChainSigner) {
  return getContract({ address, abi: chainProbeAbi, client: { public: signer.reader, wallet: signer.wallet } });
}

/** Connects development account `accountIndex` to the node, and to a deployed ChainProbe (deploying one if none). */
export async function connectChainProbe(
  rpcUrl: string,
  accountIndex: number,
  probeAddress?: Address,
): Promise<ChainProbeFixture> {
  const reader = chainReader(rpcUrl, 31337);
  const signer = chainSigner(reader, roleAccount(accountIndex));
  let address = probeAddress;
  if (address === undefined) {
    const path = join(findProjectRoot(__dirname), "artifacts/contracts/mocks/ChainProbe.sol/ChainProbe.json");
    const { bytecode } = JSON.parse(readFileSync(path, "utf8")) as { bytecode: Hex };
    const hash = await signer.wallet.deployContract({ abi: chainProbeAbi, bytecode });
    address = (await reader.waitForTransactionReceipt({ hash })).contractAddress as Address;
  }
  const client = await FhevmClient.connect(rpcUrl);
  return {
    reader,
    signer,
    probeAddress: address,
    probe: bindProbe(address, signer),
    client,
    close: () => client.destroy(),
  };
}
