import { useSyncExternalStore } from "react";
import { useBalance, useConnect, useConnection, useConnectors, useDisconnect, type Connector } from "wagmi";
import { Card, Field } from "../components/ui";
import { useAppContext } from "../context";
import { describeContractError } from "../errors/decodeContractError";
import { formatEth } from "../format";
import { useChainStatus } from "../hooks/useChainStatus";
import { DEV_WALLET_ID, DEV_WALLET_LABEL } from "../wallet/devConnector";
import { devAccountAddresses, type DevWalletProvider } from "../wallet/devProvider";

export function ConnectPage() {
  const { runtime, devWallet } = useAppContext();
  const connection = useConnection();
  const connectors = useConnectors();
  const connect = useConnect();
  const disconnect = useDisconnect();
  const chain = useChainStatus();
  const balance = useBalance({ address: connection.address, query: { refetchInterval: 2_000 } });

  const browserWallets = connectors.filter((c) => c.id !== DEV_WALLET_ID);
  const devConnector = connectors.find((c) => c.id === DEV_WALLET_ID);
  const hasInjected = typeof window !== "undefined" && "ethereum" in window;
  const connectWith = (connector: Connector) => connect.mutate({ connector, chainId: runtime.chainId });

  return (
    <div className="page" data-testid="page-connect">
      <h1>Connect</h1>
      <p className="lead">
        Connect a wallet to register as a contributor, commit encrypted updates and read your royalties.
      </p>

      {connection.isConnected && connection.address ? (
        <Card title="Connected" testId="connected">
          <Field label="Account" testId="account-address">
            <code>{connection.address}</code>
          </Field>
          <Field label="Wallet">{connection.connector?.name}</Field>
          <Field label="Wallet chain id" testId="wallet-chain-id">
            {connection.chainId}
          </Field>
          <Field label={`Balance on ${runtime.chainName}`} testId="account-balance">
            {balance.data ? formatEth(balance.data.value) : "…"}
          </Field>
          <button type="button" onClick={() => disconnect.mutate({ connector: connection.connector })}>
            Disconnect
          </button>
        </Card>
      ) : null}

      <div className="grid two">
        <Card title="Browser wallet">
          <p>MetaMask or any EIP-1193 wallet injected into this browser.</p>
          {hasInjected ? (
            browserWallets.map((connector) => (
              <button
                key={connector.uid}
                type="button"
                disabled={connect.isPending || connection.isConnected}
                onClick={() => connectWith(connector)}
              >
                Connect {connector.name}
              </button>
            ))
          ) : (
            <p className="muted" data-testid="no-injected">
              No browser wallet found. Install MetaMask (or a compatible wallet) and reload
              {devConnector ? ", or use the development wallet on the local chain." : "."}
            </p>
          )}
        </Card>

        {devWallet && devConnector ? (
          <Card title={DEV_WALLET_LABEL} tone="warn" testId="dev-wallet">
            <p>
              Hardhat&apos;s public test mnemonic, signing inside this page. Anyone can spend these accounts: they exist
              only on the local chain.
            </p>
            <DevAccountPicker devWallet={devWallet} />
            <button
              type="button"
              className="primary"
              disabled={connect.isPending || connection.isConnected}
              onClick={() => connectWith(devConnector)}
            >
              Connect development wallet
            </button>
          </Card>
        ) : null}
      </div>

      {connect.error && (
        <p className="error" role="alert">
          {describeContractError(connect.error).message}
        </p>
      )}

      <Card title="Network" testId="network">
        <Field label="Chain">{runtime.chainName}</Field>
        <Field label="RPC endpoint">
          <code>{runtime.rpcUrl}</code>
        </Field>
        <Field label="Chain id reported by the node" testId="rpc-chain-id">
          {chain.data ? chain.data.chainId : chain.isError ? "unreachable" : "…"}
        </Field>
        <Field label="Latest block" testId="block-number">
          {chain.data ? chain.data.blockNumber.toString() : chain.isError ? "unreachable" : "…"}
        </Field>
        <Field label="Coprocessor">
          {runtime.coprocessorUrl ? <code>{runtime.coprocessorUrl}</code> : "not configured"}
        </Field>
      </Card>
    </div>
  );
}

function useDevAccountIndex(devWallet: DevWalletProvider): number {
  return useSyncExternalStore(
    (onChange) => devWallet.subscribeSelection(onChange),
    () => devWallet.selectedIndex,
  );
}

function DevAccountPicker({ devWallet }: { devWallet: DevWalletProvider }) {
  const selected = useDevAccountIndex(devWallet);
  const addresses = devAccountAddresses();
  return (
    <label className="picker">
      Test account{" "}
      <select
        data-testid="dev-account-select"
        value={selected}
        onChange={(event) => devWallet.selectAccount(Number(event.target.value))}
      >
        {addresses.map((address, index) => (
          <option key={address} value={index}>
            #{index} {address}
          </option>
        ))}
      </select>
    </label>
  );
}
