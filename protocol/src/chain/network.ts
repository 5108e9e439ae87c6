import { defineChain, type Chain } from "viem";

/** A viem chain for a CipherShare network's JSON-RPC endpoint (the embedded chain is 31337). */
export function cipherShareChain(options: { chainId: number; rpcUrl: string; name?: string }): Chain {
  return defineChain({
    id: options.chainId,
    name: options.name ?? `CipherShare ${options.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
    testnet: true,
  });
}
