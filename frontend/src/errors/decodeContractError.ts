import {
  BaseError,
  ChainMismatchError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  InsufficientFundsError,
  UserRejectedRequestError,
  isHex,
  type Abi,
  type AbiParameter,
  type Hex,
} from "viem";

/** What a person is shown when a call or transaction fails. */
export interface ReadableError {
  /** One line saying what went wrong and, where we can tell, what to do about it. */
  readonly message: string;
  /** The custom error's name when the contract reverted with one (e.g. `NotRegistered`). */
  readonly errorName?: string;
  /** The custom error's arguments by parameter name (positional index when unnamed). */
  readonly args?: Readonly<Record<string, unknown>>;
}

/** Optional advice per custom error name, appended to the message. */
export type ErrorHints = Readonly<Record<string, string>>;

/**
 * Turns an error from viem/wagmi into a message a person can act on. A revert is decoded against
 * `abi` (the contract called, plus any contract it calls) into `ErrorName(arg: value, …)`.
 */
export function describeContractError(error: unknown, abi: Abi = [], hints: ErrorHints = {}): ReadableError {
  if (!(error instanceof BaseError)) {
    return { message: error instanceof Error ? error.message : String(error) };
  }
  if (error.walk((e) => e instanceof UserRejectedRequestError)) {
    return { message: "You rejected the request in your wallet; nothing was sent." };
  }
  const mismatch = error.walk((e) => e instanceof ChainMismatchError);
  if (mismatch instanceof ChainMismatchError) {
    return { message: `${mismatch.shortMessage} Switch your wallet to the CipherShare chain and try again.` };
  }
  if (error.walk((e) => e instanceof InsufficientFundsError)) {
    return { message: "Your account does not have enough ETH to pay for this transaction's gas." };
  }

  const decoded = decodeRevert(error, abi);
  if (decoded) {
    const { abiItem, args } = decoded;
    if (abiItem.name === "Error" && abiItem.inputs.length === 1 && abiItem.inputs[0]?.type === "string") {
      return {
        message: `The contract rejected the call: ${String(args[0])}`,
        errorName: "Error",
        args: { reason: args[0] },
      };
    }
    const named = nameArguments(abiItem.inputs, args);
    const rendered = Object.entries(named)
      .map(([name, value]) => `${name}: ${formatValue(value)}`)
      .join(", ");
    const hint = hints[abiItem.name];
    return {
      message: `The contract rejected the call with ${abiItem.name}(${rendered}).${hint ? ` ${hint}` : ""}`,
      errorName: abiItem.name,
      args: named,
    };
  }

  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError) {
    if (reverted.reason) return { message: `The contract rejected the call: ${reverted.reason}` };
    if (reverted.signature) {
      return {
        message: `The contract rejected the call with an error this page does not know (selector ${reverted.signature}); the contract's ABI may be out of date.`,
      };
    }
    return { message: "The contract rejected the call without saying why." };
  }
  return { message: error.shortMessage || error.message };
}

type AbiError = Extract<Abi[number], { type: "error" }>;

interface DecodedRevert {
  readonly abiItem: AbiError;
  readonly args: readonly unknown[];
}

/** Finds the revert data anywhere in the error chain and decodes it against `abi`. */
function decodeRevert(error: BaseError, abi: Abi): DecodedRevert | undefined {
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError && reverted.data?.abiItem) {
    const abiItem = reverted.data.abiItem;
    if (abiItem.type === "error") return { abiItem, args: reverted.data.args ?? [] };
  }
  const data = (reverted instanceof ContractFunctionRevertedError ? reverted.raw : undefined) ?? findRevertData(error);
  if (!data || data === "0x") return undefined;
  try {
    const { abiItem, args } = decodeErrorResult({ abi, data });
    return abiItem.type === "error" ? { abiItem, args: args ?? [] } : undefined;
  } catch {
    return undefined;
  }
}

/** Revert bytes travel in a `data` field somewhere down the cause chain (RPC errors nest them). */
function findRevertData(error: unknown): Hex | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 10; depth++) {
    const record = current as { data?: unknown; cause?: unknown };
    if (typeof record.data === "string" && isHex(record.data) && record.data.length >= 10) return record.data;
    if (typeof record.data === "object" && record.data !== null) {
      const nested = (record.data as { data?: unknown }).data;
      if (typeof nested === "string" && isHex(nested) && nested.length >= 10) return nested;
    }
    current = record.cause;
  }
  return undefined;
}

function nameArguments(inputs: readonly AbiParameter[], args: readonly unknown[]): Record<string, unknown> {
  const named: Record<string, unknown> = {};
  inputs.forEach((input, index) => {
    named[input.name && input.name !== "" ? input.name : String(index)] = args[index];
  });
  return named;
}

/** Renders an argument value the way a person reads it (amounts stay exact integers). */
export function formatValue(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  if (typeof value === "string") return isHex(value) ? value : JSON.stringify(value);
  if (value && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${formatValue(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}
