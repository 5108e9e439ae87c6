import type { Address } from "../hex";

/** Addresses of one CipherShare deployment (the workspace's `deployment.json`). */
export interface Deployment {
  readonly chainId: number;
  /** The hub: contributor registry, programs and rounds in one contract (RoundManager). */
  readonly rounds: Address;
  readonly distributor: Address;
  /** Sealed payout addresses and anonymous, scanning claims paid out of the distributor's rounds. */
  readonly anonymousPayouts: Address;
  readonly token: Address;
  /** The ERC-20 the royalty token wraps (a test token on the embedded chain). */
  readonly underlying: Address;
  /** Events are read from here on. */
  readonly deployedAtBlock: number;
}
