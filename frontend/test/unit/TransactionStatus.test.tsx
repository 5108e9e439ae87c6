import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { createPublicClient, http, type Address, type Hex } from "viem";
import { WagmiProvider } from "wagmi";
import { connect, disconnect } from "wagmi/actions";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { useContractTransaction } from "../../src/chain/useContractTransaction";
import { TransactionStatus } from "../../src/components/TransactionStatus";
import { DEFAULT_RUNTIME_CONFIG } from "../../src/config/runtime";
import { createAppWallets, type AppWallets } from "../../src/wagmi";
import { DEV_WALLET_ID } from "../../src/wallet/devConnector";
import { acceptingContractBytecode, revertingContractBytecode, testContractAbi } from "../support/contracts";

const rpcUrl = inject("rpcUrl");

function Commit({ address }: { address: Address }) {
  const tx = useContractTransaction(testContractAbi, { RoundClosed: "Wait for the next round to open." });
  const [clicks, setClicks] = useState(0);
  return (
    <>
      <button
        type="button"
        onClick={() => {
          setClicks(clicks + 1);
          void tx.run({ address, abi: testContractAbi, functionName: "commit", args: [`0x${"11".repeat(32)}`] });
        }}
      >
        Commit
      </button>
      <TransactionStatus state={tx.state} />
    </>
  );
}

describe("useContractTransaction with the development wallet", () => {
  let wallets: AppWallets;
  let accepting: Address;
  let reverting: Address;

  beforeAll(async () => {
    wallets = createAppWallets({ ...DEFAULT_RUNTIME_CONFIG, rpcUrl });
    wallets.devWallet!.selectAccount(6);
    await wallets.devWallet!.request({ method: "eth_requestAccounts" });
    const publicClient = createPublicClient({ transport: http(rpcUrl) });
    const deploy = async (data: Hex) => {
      const hash = (await wallets.devWallet!.request({
        method: "eth_sendTransaction",
        params: [{ from: wallets.devWallet!.address, data }],
      })) as Hex;
      return (await publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
    };
    accepting = await deploy(acceptingContractBytecode());
    reverting = await deploy(revertingContractBytecode());
  });

  afterEach(async () => {
    cleanup();
    await disconnect(wallets.config);
  });

  /** Renders, then connects as a person would after the page loaded (mounting reconnects nothing). */
  const renderCommit = async (address: Address) => {
    render(
      <WagmiProvider config={wallets.config}>
        <QueryClientProvider client={new QueryClient()}>
          <Commit address={address} />
        </QueryClientProvider>
      </WagmiProvider>,
    );
    const devConnector = wallets.config.connectors.find((c) => c.id === DEV_WALLET_ID)!;
    await act(async () => {
      await connect(wallets.config, { connector: devConnector });
    });
  };

  it("shows the block a transaction was confirmed in", async () => {
    await renderCommit(accepting);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Commit" })));
    await waitFor(() => expect(screen.getByTestId("tx-status").textContent).toMatch(/^Confirmed in block \d+\.$/), {
      timeout: 15_000,
    });
  });

  it("names the custom error a reverting call would hit, before anything is signed", async () => {
    await renderCommit(reverting);
    const before = await createPublicClient({ transport: http(rpcUrl) }).getTransactionCount({
      address: wallets.devWallet!.address,
    });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Commit" })));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("RoundClosed"), { timeout: 15_000 });
    expect(screen.getByRole("alert").textContent).toBe(
      "The contract rejected the call with RoundClosed(round: 3, phase: 2). Wait for the next round to open.",
    );
    const after = await createPublicClient({ transport: http(rpcUrl) }).getTransactionCount({
      address: wallets.devWallet!.address,
    });
    expect(after).toBe(before);
  });
});
