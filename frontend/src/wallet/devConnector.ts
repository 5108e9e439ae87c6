import { createConnector } from "wagmi";
import { getAddress, numberToHex, SwitchChainError, type Address, type Chain } from "viem";
import type { DevWalletProvider } from "./devProvider";

export const DEV_WALLET_ID = "ciphershareDevWallet";
export const DEV_WALLET_LABEL = "Development wallet — local test accounts, never use on a real network";

export interface DevWalletParameters {
  readonly chain: Chain;
  /** Shared with the Connect page's account picker, so both see the same selected account. */
  readonly provider: DevWalletProvider;
}

/** wagmi connector over {@link DevWalletProvider}: the local test accounts, signing in the page. */
export function devWallet({ chain, provider }: DevWalletParameters) {
  return createConnector<DevWalletProvider>((config) => {
    const onAccountsChanged = (accounts: unknown) => {
      const list = accounts as Address[];
      if (list.length === 0) config.emitter.emit("disconnect");
      else config.emitter.emit("change", { accounts: list.map((a) => getAddress(a)) });
    };
    provider.on("accountsChanged", onAccountsChanged);

    return {
      id: DEV_WALLET_ID,
      name: "Development wallet",
      type: "devWallet",
      async connect<withCapabilities extends boolean = false>({
        withCapabilities,
      }: { withCapabilities?: withCapabilities | boolean | undefined } = {}) {
        const accounts = (await provider.request({ method: "eth_requestAccounts" })) as Address[];
        const addresses = accounts.map((a) => getAddress(a));
        return {
          accounts: (withCapabilities
            ? addresses.map((address) => ({ address, capabilities: {} }))
            : addresses) as never,
          chainId: chain.id,
        };
      },
      async disconnect() {
        provider.disconnect();
      },
      async getAccounts() {
        const accounts = (await provider.request({ method: "eth_accounts" })) as Address[];
        return accounts.map((a) => getAddress(a));
      },
      async getChainId() {
        return chain.id;
      },
      async getProvider() {
        return provider;
      },
      async isAuthorized() {
        // Never reconnect silently after a reload: a person picks the test account on purpose.
        return false;
      },
      async switchChain({ chainId }) {
        if (chainId !== chain.id) {
          throw new SwitchChainError(new Error(`The development wallet only works on chain ${chain.id}.`));
        }
        await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: numberToHex(chainId) }] });
        return chain;
      },
      onAccountsChanged,
      onChainChanged(chainId) {
        config.emitter.emit("change", { chainId: Number(chainId) });
      },
      onDisconnect() {
        config.emitter.emit("disconnect");
      },
    };
  });
}
