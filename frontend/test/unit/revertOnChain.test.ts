// @vitest-environment node
import { describe, expect, inject, it } from "vitest";
import { createPublicClient, createWalletClient, custom, http, parseAbi, type Hex } from "viem";
import { appChain } from "../../src/chain/chain";
import { DEFAULT_RUNTIME_CONFIG } from "../../src/config/runtime";
import { describeContractError } from "../../src/errors/decodeContractError";
import { DevWalletProvider } from "../../src/wallet/devProvider";
import { revertingContractBytecode, testContractAbi } from "../support/contracts";

const abi = testContractAbi;

describe("describeContractError against the local node", () => {
  const rpcUrl = inject("rpcUrl");
  const chain = appChain({ ...DEFAULT_RUNTIME_CONFIG, rpcUrl });
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });

  async function deploy(wallet: ReturnType<typeof createWalletClient>) {
    const [account] = await wallet.getAddresses();
    const hash = await wallet.deployContract({ abi, bytecode: revertingContractBytecode(), account: account!, chain });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    return receipt.contractAddress!;
  }

  it("decodes a custom error from a simulated call and from a transaction sent through the development wallet", async () => {
    const provider = new DevWalletProvider({ chain, rpcUrl, accountIndex: 3 });
    await provider.request({ method: "eth_requestAccounts" });
    const wallet = createWalletClient({ chain, transport: custom(provider) });
    const address = await deploy(wallet);
    const [account] = await wallet.getAddresses();
    const args = ["0x" + "ab".repeat(32)] as [Hex];

    const simulated = await publicClient
      .simulateContract({ address, abi, functionName: "commit", args, account: account! })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(describeContractError(simulated, abi, { RoundClosed: "Wait for the next round." })).toEqual({
      message: "The contract rejected the call with RoundClosed(round: 3, phase: 2). Wait for the next round.",
      errorName: "RoundClosed",
      args: { round: 3n, phase: 2 },
    });

    // Without simulation the revert surfaces from gas estimation inside the wallet's eth_sendTransaction.
    const sent = await wallet
      .writeContract({
        address,
        abi: parseAbi(["function commit(bytes32 hash)"]),
        functionName: "commit",
        args,
        account: account!,
        chain,
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(describeContractError(sent, abi).errorName).toBe("RoundClosed");
  });
});
