import { createConfig, http, type Config } from "wagmi";
import { injected } from "wagmi/connectors";
import { appChain } from "./chain/chain";
import { LOCAL_CHAIN_ID, type RuntimeConfig } from "./config/runtime";
import { devWallet } from "./wallet/devConnector";
import { DevWalletProvider } from "./wallet/devProvider";

export interface AppWallets {
  readonly config: Config;
  /** The development wallet, present on the local chain only. */
  readonly devWallet: DevWalletProvider | null;
}

/** wagmi configuration: the injected wallet always, the development wallet on the local chain only. */
export function createAppWallets(runtime: RuntimeConfig): AppWallets {
  const chain = appChain(runtime);
  const devProvider =
    runtime.chainId === LOCAL_CHAIN_ID ? new DevWalletProvider({ chain, rpcUrl: runtime.rpcUrl }) : null;
  const connectors = devProvider ? [injected(), devWallet({ chain, provider: devProvider })] : [injected()];
  const config = createConfig({
    chains: [chain],
    connectors,
    transports: { [chain.id]: http(runtime.rpcUrl) },
    // Local blocks come fast; poll often enough that the pages follow a round as it runs.
    pollingInterval: 1_000,
  });
  return { config, devWallet: devProvider };
}
