// @vitest-environment node
import { describe, expect, inject, it } from "vitest";
import {
  concatHex,
  createPublicClient,
  createWalletClient,
  custom,
  http,
  numberToHex,
  parseAbi,
  size,
  toFunctionSelector,
  type Hex,
} from "viem";
import { appChain } from "../../src/chain/chain";
import { DEFAULT_RUNTIME_CONFIG } from "../../src/config/runtime";
import { describeContractError } from "../../src/errors/decodeContractError";
import { DevWalletProvider } from "../../src/wallet/devProvider";

const abi = parseAbi(["function commit(bytes32 hash)", "error RoundClosed(uint64 round, uint8 phase)"]);

/**
 * A contract whose every call reverts with RoundClosed(3, 2), assembled by hand so the test needs no
 * compiler: mstore(0, selector << 224); mstore(4, 3); mstore(0x24, 2); revert(0, 0x44).
 */
function revertingContractBytecode(): Hex {
  const selector = toFunctionSelector("RoundClosed(uint64,uint8)");
  const runtime = concatHex(["0x63", selector, "0x60e01b600052", "0x6003600452", "0x6002602452", "0x60446000fd"]);
  // Init code: codecopy(0, 11, len); return(0, len) — 11 bytes, then the runtime code.
  const length = numberToHex(size(runtime), { size: 1 });
  return concatHex(["0x60", length, "0x80600b6000396000f3", runtime]);
}

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
