import type { Address } from "viem";
import type { RuntimeConfig } from "../config/runtime";

/**
 * The registry contributors register with: a standalone ContributorRegistry, or the RoundManager hub,
 * which inherits it.
 */
export function contributorRegistryAddress(runtime: RuntimeConfig): Address | undefined {
  return runtime.contracts.ContributorRegistry ?? runtime.contracts.RoundManager;
}

/** Where programs (and their key-bundle hashes) live: a standalone ProgramRegistry, or the hub. */
export function programRegistryAddress(runtime: RuntimeConfig): Address | undefined {
  return runtime.contracts.ProgramRegistry ?? runtime.contracts.RoundManager;
}
