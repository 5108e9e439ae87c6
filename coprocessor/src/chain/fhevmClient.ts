/*
 * fhEVM inputs and decryptions from a plain process (a contributor, the custodian, an auditor, a browser)
 * against a `hardhat node` running the fhEVM mock plugin. The node plays relayer, coprocessor and KMS
 * through its `fhevm_relayer_*` JSON-RPC methods; `MockFhevmInstance` from `@fhevm/mock-utils` is the
 * client side of those methods, built here from nothing but a provider.
 *
 * No Node-only API is used in this module: the provider is injected (an RPC URL read with fetch, an
 * EIP-1193 provider such as a wallet or viem transport, or an ethers provider) and signing goes through
 * a small `TypedDataSigner` that an ethers signer satisfies and a viem account can be adapted to.
 */
import { createPublicClient, custom, http, type Address } from "viem";
import { BrowserProvider, JsonRpcApiProvider, JsonRpcProvider, hexlify, type Eip1193Provider } from "ethers";

import type { Hex } from "@ciphershare/protocol/hex";
import { DecryptionRefusedError, FhevmClientError } from "./errors";
import { RELAYER_METADATA_METHOD, assertRelayerMetadata, type RelayerMetadata } from "./relayerMetadata";

// @fhevm/mock-utils ships as an ES module: loaded with import() from this CommonJS package (and kept out
// of a browser bundle's main chunk, as Zama's templates do).
type MockUtils = typeof import("@fhevm/mock-utils", { with: { "resolution-mode": "import" } });
type CreateMockInstance = MockUtils["MockFhevmInstance"]["create"];
type MockFhevmInstance = Awaited<ReturnType<CreateMockInstance>>;

/** The mock's input builder: `add8`…`add256`, `addBool`, `addAddress`, then `encrypt()`. */
export type EncryptedInputBuilder = ReturnType<MockFhevmInstance["createEncryptedInput"]>;

/** A decrypted fhEVM value: integers as bigint, ebool as boolean, eaddress as a checksummed hex string. */
export type ClearValue = bigint | boolean | Hex;

/** Where the chain is: an RPC URL, an EIP-1193 provider (wallet, viem transport) or an ethers provider. */
export type ChainSource = string | Eip1193Provider | JsonRpcApiProvider;

export interface TypedDataField {
  name: string;
  type: string;
}

/**
 * The one thing user decryption needs from an account: an EIP-712 signature. An ethers `Signer`
 * (Wallet, JsonRpcSigner) satisfies it as is; wrap a viem account with `viemAccountSigner`.
 */
export interface TypedDataSigner {
  getAddress(): Promise<string>;
  signTypedData(
    domain: Record<string, unknown>,
    types: Record<string, TypedDataField[]>,
    message: Record<string, unknown>,
  ): Promise<string>;
}

/** The subset of a viem `LocalAccount` / `WalletClient` account used for signing. */
export interface ViemLikeAccount {
  address: Hex;
  signTypedData(parameters: {
    domain: Record<string, unknown>;
    types: Record<string, TypedDataField[]>;
    primaryType: string;
    message: Record<string, unknown>;
  }): Promise<Hex>;
}

export interface EncryptedInput {
  /** One bytes32 handle per added value, in the order added: pass them as `externalEuintXX` arguments. */
  handles: Hex[];
  /** The proof the contract's `FHE.fromExternal` checks, bound to (contract, user). */
  inputProof: Hex;
}

export interface PublicDecryption {
  clearValues: Record<Hex, ClearValue>;
  /** ABI encoding of the clear values in handle order: what `FHE.checkSignatures` verifies on-chain. */
  abiEncodedClearValues: Hex;
  /** KMS signatures over the clear values, to submit with them for the on-chain check. */
  decryptionProof: Hex;
}

export interface HandleContractPair {
  handle: Hex;
  contractAddress: string;
}

export interface UserDecryptOptions {
  /** Validity of the signed request, in days (default 1). */
  durationDays?: number;
  /** Start of the validity window, Unix seconds (default: now). */
  startTimestamp?: number;
}

const EIP712_PRIMARY_TYPE = "UserDecryptRequestVerification";

/** Adapts a viem account (local or JSON-RPC) to the `TypedDataSigner` user decryption expects. */
export function viemAccountSigner(account: ViemLikeAccount): TypedDataSigner {
  return {
    getAddress: async () => account.address,
    signTypedData: (domain, types, message) => {
      const primaryType = Object.keys(types).find((name) => name !== "EIP712Domain");
      if (primaryType === undefined) {
        throw new FhevmClientError("EIP-712 types name no primary type.", { details: JSON.stringify(types) });
      }
      return account.signTypedData({ domain, types, primaryType, message });
    },
  };
}

export class FhevmClient {
  readonly chainId: number;
  readonly metadata: RelayerMetadata;
  readonly #instance: MockFhevmInstance;
  readonly #provider: JsonRpcApiProvider;
  readonly #ownsProvider: boolean;

  private constructor(
    instance: MockFhevmInstance,
    metadata: RelayerMetadata,
    provider: JsonRpcApiProvider,
    ownsProvider: boolean,
  ) {
    this.#instance = instance;
    this.metadata = metadata;
    this.chainId = metadata.chainId;
    this.#provider = provider;
    this.#ownsProvider = ownsProvider;
  }

  /**
   * Connects to a fhEVM mock node: reads `fhevm_relayer_metadata` for the host contract addresses and
   * the gateway chain, and each verifier's EIP-712 domain (the verifying contracts the node signs
   * input proofs and decryptions for), then builds the mock relayer instance.
   */
  static async connect(source: ChainSource): Promise<FhevmClient> {
    const { provider, ownsProvider } = await toEthersProvider(source);
    try {
      const metadata = assertRelayerMetadata(await provider.send(RELAYER_METADATA_METHOD, []));
      const [inputDomain, decryptionDomain] = await Promise.all([
        readEip712Domain(provider, metadata.InputVerifierAddress, "InputVerifier"),
        readEip712Domain(provider, metadata.KMSVerifierAddress, "KMSVerifier"),
      ]);
      const { MockFhevmInstance } = await import("@fhevm/mock-utils");
      // The mock's types name ethers' ES-module build; the provider is the same class from the CommonJS build.
      const instance = await MockFhevmInstance.create(
        provider as unknown as Parameters<CreateMockInstance>[0],
        provider as unknown as Parameters<CreateMockInstance>[1],
        {
          aclContractAddress: metadata.ACLAddress,
          chainId: metadata.chainId,
          gatewayChainId: metadata.gatewayChainId,
          inputVerifierContractAddress: metadata.InputVerifierAddress,
          kmsContractAddress: metadata.KMSVerifierAddress,
          verifyingContractAddressInputVerification: inputDomain.verifyingContract,
          verifyingContractAddressDecryption: decryptionDomain.verifyingContract,
        },
        // Empty properties: signer addresses, thresholds and domains are read from the contracts.
        { inputVerifierProperties: {}, kmsVerifierProperties: {} },
      );
      return new FhevmClient(instance, metadata, provider, ownsProvider);
    } catch (error) {
      if (ownsProvider) provider.destroy();
      if (error instanceof FhevmClientError) throw error;
      throw new FhevmClientError("Could not connect to the fhEVM mock node.", {
        details: "Is this a `hardhat node` with the @fhevm/hardhat-plugin loaded?",
        cause: error,
      });
    }
  }

  /**
   * A builder for several encrypted values in one proof (`add8`…`add256`, `addBool`, `addAddress`, then
   * `encrypt()`), bound to `contractAddress` and `userAddress` (the `msg.sender` that will submit it).
   */
  createEncryptedInput(contractAddress: string, userAddress: string): EncryptedInputBuilder {
    return this.#instance.createEncryptedInput(contractAddress, userAddress);
  }

  /** Encrypts uint64 values for one contract call by `userAddress`, as hex ready for ethers or viem. */
  async encryptUint64(
    contractAddress: string,
    userAddress: string,
    values: readonly bigint[],
  ): Promise<EncryptedInput> {
    if (values.length === 0) {
      throw new FhevmClientError("Nothing to encrypt: pass at least one value.", { details: "values: []" });
    }
    const input = this.createEncryptedInput(contractAddress, userAddress);
    for (const value of values) {
      if (value < 0n || value >= 1n << 64n) {
        throw new FhevmClientError("Value does not fit in a euint64.", { details: `value: ${value}` });
      }
      input.add64(value);
    }
    const encrypted = await wrapRelayerCall("create an input proof", () => input.encrypt());
    return {
      handles: encrypted.handles.map((handle) => hexlify(handle) as Hex),
      inputProof: hexlify(encrypted.inputProof) as Hex,
    };
  }

  /**
   * Decrypts handles for `signer`, who signs an EIP-712 request with a fresh keypair. Refused with
   * `DecryptionRefusedError` unless the ACL lets both the signer and each handle's contract read it.
   */
  async userDecrypt(
    pairs: readonly HandleContractPair[],
    signer: TypedDataSigner,
    options: UserDecryptOptions = {},
  ): Promise<Record<Hex, ClearValue>> {
    if (pairs.length === 0) {
      throw new FhevmClientError("Nothing to decrypt: pass at least one handle.", { details: "pairs: []" });
    }
    const userAddress = await signer.getAddress();
    const contractAddresses = [...new Set(pairs.map((pair) => pair.contractAddress))];
    const startTimestamp = options.startTimestamp ?? Math.floor(Date.now() / 1000);
    const durationDays = options.durationDays ?? 1;
    const keypair = this.#instance.generateKeypair();
    const eip712 = this.#instance.createEIP712(keypair.publicKey, contractAddresses, startTimestamp, durationDays);
    const signature = await signer.signTypedData(
      eip712.domain as unknown as Record<string, unknown>,
      { [EIP712_PRIMARY_TYPE]: [...eip712.types[EIP712_PRIMARY_TYPE]] },
      eip712.message as unknown as Record<string, unknown>,
    );
    const results = await wrapRelayerCall(`user-decrypt for ${userAddress}`, () =>
      this.#instance.userDecrypt(
        pairs.map((pair) => ({ handle: pair.handle, contractAddress: pair.contractAddress })),
        keypair.privateKey,
        keypair.publicKey,
        signature,
        contractAddresses,
        userAddress,
        startTimestamp,
        durationDays,
      ),
    );
    return results as Record<Hex, ClearValue>;
  }

  /** `userDecrypt` of one euint64 handle. The zero handle (never assigned) decrypts to 0. */
  async userDecryptUint64(handle: Hex, contractAddress: string, signer: TypedDataSigner): Promise<bigint> {
    if (BigInt(handle) === 0n) return 0n;
    const results = await this.userDecrypt([{ handle, contractAddress }], signer);
    const value = Object.entries(results).find(([key]) => key.toLowerCase() === handle.toLowerCase())?.[1];
    if (typeof value !== "bigint") {
      throw new FhevmClientError("The handle did not decrypt to an integer.", {
        details: `${handle} → ${String(value)}`,
      });
    }
    return value;
  }

  /** Decrypts handles that a contract marked with `FHE.makePubliclyDecryptable`, with the KMS proof. */
  async publicDecrypt(handles: readonly Hex[]): Promise<PublicDecryption> {
    const result = await wrapRelayerCall("public-decrypt", () => this.#instance.publicDecrypt([...handles]));
    return {
      clearValues: result.clearValues as Record<Hex, ClearValue>,
      abiEncodedClearValues: result.abiEncodedClearValues as Hex,
      decryptionProof: result.decryptionProof as Hex,
    };
  }

  /** Releases the provider if this client created it (RPC URL source). */
  destroy(): void {
    if (this.#ownsProvider) this.#provider.destroy();
  }
}

async function toEthersProvider(source: ChainSource): Promise<{ provider: JsonRpcApiProvider; ownsProvider: boolean }> {
  if (source instanceof JsonRpcApiProvider) return { provider: source, ownsProvider: false };
  if (typeof source === "string") {
    // Read the chain id once so the provider never polls a dead URL to detect its network.
    const chainId = await createPublicClient({ transport: http(source, { retryCount: 0 }) }).getChainId();
    return { provider: new JsonRpcProvider(source, chainId, { staticNetwork: true }), ownsProvider: true };
  }
  return { provider: new BrowserProvider(source), ownsProvider: true };
}

/** The EIP-712 domain an fhEVM verifier contract signs for (ERC-5267 `eip712Domain()`). */
async function readEip712Domain(
  provider: JsonRpcApiProvider,
  address: string,
  name: string,
): Promise<{ chainId: bigint; verifyingContract: Hex }> {
  // viem reads over the same provider the mock instance uses.
  const client = createPublicClient({
    transport: custom({ request: ({ method, params }) => provider.send(method, (params ?? []) as unknown[]) }),
  });
  try {
    const { domain } = await client.getEip712Domain({ address: address as Address });
    return { chainId: BigInt(domain.chainId), verifyingContract: domain.verifyingContract };
  } catch (error) {
    throw new FhevmClientError(`The ${name} contract returned no EIP-712 domain.`, {
      details: `${name} at ${address}`,
      cause: error,
    });
  }
}

/** Turns the mock's ACL refusals into `DecryptionRefusedError` and everything else into `FhevmClientError`. */
async function wrapRelayerCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/not authorized|not allowed for public decryption/i.test(message)) {
      throw new DecryptionRefusedError(`The ACL refused to ${what}.`, { details: firstLine(message), cause: error });
    }
    throw new FhevmClientError(`Could not ${what}.`, { details: firstLine(message), cause: error });
  }
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}
