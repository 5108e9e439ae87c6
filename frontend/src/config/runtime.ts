import { getAddress, isAddress, type Address } from "viem";

/** Where the app finds the chain and the coprocessor; served at run time so one build fits any port. */
export interface RuntimeConfig {
  /** JSON-RPC endpoint of the chain the app works against. */
  readonly rpcUrl: string;
  /** The chain id that endpoint must answer with; a wallet on another chain is on the wrong network. */
  readonly chainId: number;
  /** Human name of that chain, shown in the network banner. */
  readonly chainName: string;
  /** Base URL of the coprocessor's HTTP endpoint, or null when none is running. */
  readonly coprocessorUrl: string | null;
  /** Deployed CipherShare contracts by name, as far as the launcher knows them. */
  readonly contracts: Readonly<Record<string, Address>>;
}

export const LOCAL_CHAIN_ID = 31337;

/** The path the dev/preview server (and `npm run app`) serves the runtime configuration at. */
export const RUNTIME_CONFIG_PATH = "/ciphershare-config.json";

export const DEFAULT_RUNTIME_CONFIG: RuntimeConfig = {
  rpcUrl: "http://127.0.0.1:8545",
  chainId: LOCAL_CHAIN_ID,
  chainName: "CipherShare local chain",
  coprocessorUrl: null,
  contracts: {},
};

export class RuntimeConfigError extends Error {
  override readonly name = "RuntimeConfigError";
}

/** Validates untrusted JSON into a RuntimeConfig, filling what is missing from the defaults. */
export function parseRuntimeConfig(json: unknown): RuntimeConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new RuntimeConfigError(`Runtime configuration must be a JSON object, got ${JSON.stringify(json)}.`);
  }
  const raw = json as Record<string, unknown>;
  const rpcUrl = optionalUrl(raw.rpcUrl, "rpcUrl") ?? DEFAULT_RUNTIME_CONFIG.rpcUrl;
  const coprocessorUrl = optionalUrl(raw.coprocessorUrl, "coprocessorUrl") ?? null;
  const chainId = raw.chainId === undefined ? DEFAULT_RUNTIME_CONFIG.chainId : raw.chainId;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new RuntimeConfigError(`Runtime configuration: chainId must be a positive integer, got ${String(chainId)}.`);
  }
  const chainName = typeof raw.chainName === "string" && raw.chainName !== "" ? raw.chainName : defaultName(chainId);
  const contracts: Record<string, Address> = {};
  if (raw.contracts !== undefined) {
    if (typeof raw.contracts !== "object" || raw.contracts === null || Array.isArray(raw.contracts)) {
      throw new RuntimeConfigError("Runtime configuration: contracts must be an object of name → address.");
    }
    for (const [name, address] of Object.entries(raw.contracts)) {
      if (typeof address !== "string" || !isAddress(address)) {
        throw new RuntimeConfigError(
          `Runtime configuration: contract ${name} has no valid address (${String(address)}).`,
        );
      }
      contracts[name] = getAddress(address);
    }
  }
  return { rpcUrl, chainId, chainName, coprocessorUrl, contracts };
}

function defaultName(chainId: number): string {
  return chainId === LOCAL_CHAIN_ID ? DEFAULT_RUNTIME_CONFIG.chainName : `Chain ${chainId}`;
}

function optionalUrl(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new RuntimeConfigError(`Runtime configuration: ${field} must be a URL string.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RuntimeConfigError(`Runtime configuration: ${field} is not a URL (${value}).`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RuntimeConfigError(`Runtime configuration: ${field} must be http(s), got ${url.protocol}.`);
  }
  return value.replace(/\/+$/, "");
}

/** Loads the served configuration; a static deployment without one falls back to the local defaults. */
export async function loadRuntimeConfig(fetchFn: typeof fetch = fetch): Promise<RuntimeConfig> {
  let response: Response;
  try {
    response = await fetchFn(RUNTIME_CONFIG_PATH, { cache: "no-store" });
  } catch {
    return DEFAULT_RUNTIME_CONFIG;
  }
  if (response.status === 404) return DEFAULT_RUNTIME_CONFIG;
  if (!response.ok) {
    throw new RuntimeConfigError(`Could not load ${RUNTIME_CONFIG_PATH}: HTTP ${response.status}.`);
  }
  return parseRuntimeConfig(await response.json());
}
