import type { Chain } from "viem";
import { cipherShareChain } from "@ciphershare/protocol/chain/network";
import type { RuntimeConfig } from "../config/runtime";

/** The chain the app works against, built from the runtime configuration. */
export function appChain(config: RuntimeConfig): Chain {
  return cipherShareChain({ chainId: config.chainId, rpcUrl: config.rpcUrl, name: config.chainName });
}
