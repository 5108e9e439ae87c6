import type { Address } from "../hex";

/** The registry's EIP-712 domain name and version (contracts/registry/ContributorRegistry.sol). */
export const REGISTRY_DOMAIN = { name: "CipherShare ContributorRegistry", version: "1" } as const;

/** The `Register` message types a contributor signs for a gasless registration. */
export const REGISTER_TYPES = {
  Register: [
    { name: "contributor", type: "address" },
    { name: "metadataURI", type: "string" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/**
 * The EIP-712 typed data of a gasless registration: the contributor signs it (wallet, CLI), a relayer submits it to
 * `registerWithSignature`. The shape viem's `signTypedData` takes.
 */
export function registrationTypedData(input: {
  chainId: number;
  registry: Address;
  contributor: Address;
  metadataURI: string;
  nonce: bigint;
  deadline: bigint;
}) {
  return {
    domain: { ...REGISTRY_DOMAIN, chainId: input.chainId, verifyingContract: input.registry },
    types: REGISTER_TYPES,
    primaryType: "Register" as const,
    message: {
      contributor: input.contributor,
      metadataURI: input.metadataURI,
      nonce: input.nonce,
      deadline: input.deadline,
    },
  };
}
