import type { Address } from "../hex";

/** Addresses of one CipherShare deployment (the workspace's `deployment.json`). */
export interface Deployment {
  readonly chainId: number;
  /** The hub: contributor registry, programs and rounds in one contract (RoundManager). */
  readonly rounds: Address;
  readonly distributor: Address;
  /** Sealed payout addresses and anonymous, scanning claims paid out of the distributor's rounds. */
  readonly anonymousPayouts: Address;
  /** The usage programs' terms (UsageTerms): their artists, the payees of their rounds. Absent in older deployments. */
  readonly usageTerms?: Address;
  readonly token: Address;
  /** The ERC-20 the royalty token wraps (a test token on the embedded chain). */
  readonly underlying: Address;
  /** The ERC-2771 forwarder the royalty token trusts (meta-transactions of fresh payout addresses). */
  readonly forwarder: Address;
  /** The custodian committee contract (CustodianCommittee): the custodian of committee programs. */
  readonly committee?: Address;
  /** Events are read from here on. */
  readonly deployedAtBlock: number;
}
