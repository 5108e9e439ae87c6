import type { Address, Hex } from "../hex";

/** The forwarder's EIP-712 domain name and version (contracts/metatx/CipherShareForwarder.sol). */
export const FORWARDER_DOMAIN = { name: "CipherShareForwarder", version: "1" } as const;

/** OpenZeppelin `ERC2771Forwarder`'s `ForwardRequest` type; `nonce` is the signer's `nonces(from)` on the forwarder. */
export const FORWARD_REQUEST_TYPES = {
  ForwardRequest: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "gas", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint48" },
    { name: "data", type: "bytes" },
  ],
} as const;

/** A request a holder without ETH signs; a relayer submits it with the signature to the forwarder's `execute`. */
export interface ForwardRequest {
  from: Address;
  to: Address;
  value: bigint;
  gas: bigint;
  nonce: bigint;
  deadline: number;
  data: Hex;
}

/** The EIP-712 typed data of a forwarded request, in the shape viem's `signTypedData` takes. */
export function forwardRequestTypedData(input: { chainId: number; forwarder: Address; request: ForwardRequest }) {
  return {
    domain: { ...FORWARDER_DOMAIN, chainId: input.chainId, verifyingContract: input.forwarder },
    types: FORWARD_REQUEST_TYPES,
    primaryType: "ForwardRequest" as const,
    message: input.request,
  };
}
