import { useConnection, useSwitchChain } from "wagmi";
import { useAppContext } from "../context";
import { describeContractError } from "../errors/decodeContractError";
import { useChainStatus } from "../hooks/useChainStatus";

/** Says what is wrong with the network, and offers the one action that fixes it. */
export function NetworkBanner() {
  const { runtime } = useAppContext();
  const status = useChainStatus();
  const connection = useConnection();
  const switchChain = useSwitchChain();

  if (status.isError) {
    return (
      <div className="banner error" role="alert" data-testid="network-banner">
        <span>
          The chain at <code>{runtime.rpcUrl}</code> is not answering. Start the local stack with{" "}
          <code>npm run app</code> and reload this page.
        </span>
      </div>
    );
  }
  if (status.data && status.data.chainId !== runtime.chainId) {
    return (
      <div className="banner error" role="alert" data-testid="network-banner">
        <span>
          The node at <code>{runtime.rpcUrl}</code> reports chain {status.data.chainId}, but this app was configured for
          chain {runtime.chainId}. Check <code>CIPHERSHARE_RPC_URL</code>.
        </span>
      </div>
    );
  }
  if (connection.isConnected && connection.chainId !== runtime.chainId) {
    return (
      <div className="banner warn" role="alert" data-testid="network-banner">
        <span>
          Wrong network: your wallet is on chain {connection.chainId}. CipherShare runs on {runtime.chainName} (chain{" "}
          {runtime.chainId}).
        </span>
        <button
          type="button"
          disabled={switchChain.isPending}
          onClick={() => switchChain.mutate({ chainId: runtime.chainId })}
        >
          {switchChain.isPending ? "Switching…" : `Switch to ${runtime.chainName}`}
        </button>
        {switchChain.error && <span className="detail">{describeContractError(switchChain.error).message}</span>}
      </div>
    );
  }
  return null;
}
