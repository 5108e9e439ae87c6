import type { Client } from "viem";
import type { Address } from "@ciphershare/protocol/hex";
import { FhevmClientError } from "./errors";

/**
 * What a `hardhat node` running the fhEVM mock plugin answers to `fhevm_relayer_metadata`: the chain and
 * the addresses of the host contracts it installed. Browser-safe (no Node APIs).
 */
export interface RelayerMetadata {
  version: string;
  chainId: number;
  gatewayChainId: number;
  ACLAddress: Address;
  CoprocessorAddress: Address;
  KMSVerifierAddress: Address;
  InputVerifierAddress: Address;
  relayerSignerAddress: Address;
}

export const RELAYER_METADATA_METHOD = "fhevm_relayer_metadata";

const ADDRESS_FIELDS = [
  "ACLAddress",
  "CoprocessorAddress",
  "KMSVerifierAddress",
  "InputVerifierAddress",
  "relayerSignerAddress",
] as const;

/** Checks the shape of a `fhevm_relayer_metadata` answer, naming the first field that is wrong. */
export function assertRelayerMetadata(value: unknown): RelayerMetadata {
  if (typeof value !== "object" || value === null) {
    throw new FhevmClientError("The node did not return fhEVM relayer metadata: is it a fhEVM mock node?", {
      details: `fhevm_relayer_metadata returned ${JSON.stringify(value)}`,
    });
  }
  const record = value as Record<string, unknown>;
  for (const field of ADDRESS_FIELDS) {
    if (typeof record[field] !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(record[field])) {
      throw new FhevmClientError("The fhEVM relayer metadata has a malformed address.", {
        details: `${field}: ${JSON.stringify(record[field])}`,
      });
    }
  }
  for (const field of ["chainId", "gatewayChainId"] as const) {
    if (typeof record[field] !== "number" || !Number.isSafeInteger(record[field])) {
      throw new FhevmClientError("The fhEVM relayer metadata has a malformed chain id.", {
        details: `${field}: ${JSON.stringify(record[field])}`,
      });
    }
  }
  return value as RelayerMetadata;
}

/** Asks a node for its fhEVM relayer metadata (a method only the fhEVM mock node answers) and checks the answer. */
export async function readRelayerMetadata(client: Pick<Client, "request">): Promise<RelayerMetadata> {
  const request = client.request as (args: { method: typeof RELAYER_METADATA_METHOD }) => Promise<unknown>;
  return assertRelayerMetadata(await request({ method: RELAYER_METADATA_METHOD }));
}
