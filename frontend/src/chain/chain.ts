import { defineChain, type Chain } from "viem";
import type { RuntimeConfig } from "../config/runtime";

/** The chain the app works against, built from the runtime configuration. */
export function appChain(config: RuntimeConfig): Chain {
  return defineChain({
    id: config.chainId,
    name: config.chainName,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
    testnet: true,
  });
}
