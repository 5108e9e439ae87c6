import {
  createWalletClient,
  hexToBigInt,
  hexToNumber,
  http,
  isAddressEqual,
  numberToHex,
  ProviderRpcError,
  type Address,
  type Chain,
  type EIP1193Parameters,
  type Hex,
  type TypedDataDefinition,
} from "viem";
import { devAccount, DEV_ACCOUNT_COUNT } from "./devAccounts";

/** EIP-1193 error codes a dapp acts on. */
export const PROVIDER_ERRORS = {
  unauthorized: 4100,
  unsupportedChain: 4902,
  invalidParams: -32602,
} as const;

type ProviderEvent = "accountsChanged" | "chainChanged" | "connect" | "disconnect";
type Listener = (...args: unknown[]) => void;

/** Transaction fields as dapps send them over EIP-1193 (hex quantities). */
interface RpcTransactionRequest {
  from?: Address;
  to?: Address | null;
  data?: Hex;
  input?: Hex;
  value?: Hex;
  gas?: Hex;
  nonce?: Hex;
  gasPrice?: Hex;
  maxFeePerGas?: Hex;
  maxPriorityFeePerGas?: Hex;
}

export interface DevWalletProviderOptions {
  /** The local chain; the dev wallet refuses to sign for any other. */
  readonly chain: Chain;
  /** JSON-RPC endpoint of the local node; reads go there, signatures never do. */
  readonly rpcUrl: string;
  readonly accountIndex?: number;
  /** Injected for tests only; defaults to the global fetch. */
  readonly fetchFn?: typeof fetch;
}

/**
 * An EIP-1193 provider for the local test accounts: it signs with the keys in the page
 * (eth_sendTransaction, personal_sign, eth_signTypedData_v4) and forwards every other call to the
 * local node, so it behaves like an injected wallet without any extension.
 */
export class DevWalletProvider {
  readonly isCipherShareDevWallet = true;
  private readonly listeners = new Map<ProviderEvent, Set<Listener>>();
  private readonly selectionListeners = new Set<() => void>();
  private accountIndex: number;
  private connected = false;
  private rpcId = 0;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: DevWalletProviderOptions) {
    this.accountIndex = options.accountIndex ?? 0;
    devAccount(this.accountIndex);
    this.fetchFn = options.fetchFn ?? ((...args) => fetch(...args));
  }

  get address(): Address {
    return devAccount(this.accountIndex).address;
  }

  get selectedIndex(): number {
    return this.accountIndex;
  }

  /** Switches the active test account and tells the dapp, as a wallet's account picker would. */
  selectAccount(index: number): void {
    devAccount(index);
    if (index === this.accountIndex) return;
    this.accountIndex = index;
    for (const listener of this.selectionListeners) listener();
    if (this.connected) this.emit("accountsChanged", [this.address]);
  }

  /** For the account picker: called whenever the selected account changes, connected or not. */
  subscribeSelection(listener: () => void): () => void {
    this.selectionListeners.add(listener);
    return () => this.selectionListeners.delete(listener);
  }

  disconnect(): void {
    this.connected = false;
    this.emit("accountsChanged", []);
  }

  on(event: ProviderEvent, listener: Listener): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  removeListener(event: ProviderEvent, listener: Listener): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  private emit(event: ProviderEvent, ...args: unknown[]): void {
    for (const listener of this.listeners.get(event) ?? []) listener(...args);
  }

  async request(args: EIP1193Parameters): Promise<unknown> {
    const { method } = args;
    const params = (args.params ?? []) as readonly unknown[];
    switch (method) {
      case "eth_requestAccounts":
        this.connected = true;
        this.emit("connect", { chainId: numberToHex(this.options.chain.id) });
        return [this.address];
      case "eth_accounts":
        return this.connected ? [this.address] : [];
      case "eth_chainId":
        return numberToHex(this.options.chain.id);
      case "wallet_switchEthereumChain": {
        const [{ chainId }] = params as [{ chainId: Hex }];
        if (hexToNumber(chainId) !== this.options.chain.id) {
          throw rpcError(
            PROVIDER_ERRORS.unsupportedChain,
            `The development wallet only works on the local chain ${this.options.chain.id}, not ${hexToNumber(chainId)}.`,
          );
        }
        return null;
      }
      case "personal_sign": {
        const [message, address] = params as [Hex, Address];
        return this.accountFor(address).signMessage({ message: { raw: message } });
      }
      case "eth_signTypedData_v4": {
        const [address, json] = params as [Address, string | TypedDataDefinition];
        const typedData = (typeof json === "string" ? JSON.parse(json) : json) as TypedDataDefinition;
        return this.accountFor(address).signTypedData(typedData);
      }
      case "eth_sendTransaction": {
        const [request] = params as [RpcTransactionRequest];
        return this.sendTransaction(request);
      }
      case "eth_sign":
      case "eth_signTransaction":
        throw rpcError(4200, `The development wallet does not support ${method}.`);
      default:
        return this.forward(method, params);
    }
  }

  private accountFor(address: Address | undefined) {
    this.requireConnected();
    const account = devAccount(this.accountIndex);
    if (address !== undefined && !isAddressEqual(address, account.address)) {
      throw rpcError(PROVIDER_ERRORS.unauthorized, `Account ${address} is not the selected development account.`);
    }
    return account;
  }

  private requireConnected(): void {
    if (!this.connected) throw rpcError(PROVIDER_ERRORS.unauthorized, "Connect the development wallet first.");
  }

  private async sendTransaction(request: RpcTransactionRequest): Promise<Hex> {
    const account = this.accountFor(request.from);
    const wallet = createWalletClient({
      account,
      chain: this.options.chain,
      transport: http(this.options.rpcUrl, { fetchFn: this.fetchFn }),
    });
    const quantity = (hex: Hex | undefined) => (hex === undefined ? undefined : hexToBigInt(hex));
    const fees =
      request.gasPrice !== undefined
        ? { gasPrice: hexToBigInt(request.gasPrice) }
        : {
            maxFeePerGas: quantity(request.maxFeePerGas),
            maxPriorityFeePerGas: quantity(request.maxPriorityFeePerGas),
          };
    return wallet.sendTransaction({
      to: request.to ?? null,
      data: request.data ?? request.input,
      value: quantity(request.value),
      gas: quantity(request.gas),
      nonce: request.nonce === undefined ? undefined : hexToNumber(request.nonce),
      ...fees,
    });
  }

  private async forward(method: string, params: readonly unknown[]): Promise<unknown> {
    const response = await this.fetchFn(this.options.rpcUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++this.rpcId, method, params }),
    });
    const body = (await response.json()) as {
      result?: unknown;
      error?: { code: number; message: string; data?: unknown };
    };
    if (body.error) throw rpcError(body.error.code, body.error.message, body.error.data);
    return body.result;
  }
}

/** Every test account, for the account picker. */
export function devAccountAddresses(): Address[] {
  return Array.from({ length: DEV_ACCOUNT_COUNT }, (_, index) => devAccount(index).address);
}

function rpcError(code: number, message: string, data?: unknown): ProviderRpcError<unknown> {
  return new ProviderRpcError<unknown>(new Error(message), { code, shortMessage: message, data });
}
