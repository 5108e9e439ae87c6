import { describe, expect, it } from "vitest";
import {
  BaseError,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  encodeErrorResult,
  parseAbi,
  RpcRequestError,
  UserRejectedRequestError,
  type Abi,
} from "viem";
import { describeContractError, formatValue } from "../../src/errors/decodeContractError";

const registry = parseAbi([
  "function register(uint256 programId)",
  "error AlreadyRegistered(address contributor, uint256 programId)",
  "error RoundClosed(uint64 round, uint8 phase)",
  "error Unnamed(uint256, bool)",
]);

const CONTRIBUTOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/** The error viem throws when a write/simulate reverts, built the way viem builds it. */
function revertedCall(abi: Abi, data: `0x${string}`): ContractFunctionExecutionError {
  const cause = new ContractFunctionRevertedError({ abi, data, functionName: "register" });
  return new ContractFunctionExecutionError(cause, { abi, functionName: "register", args: [7n] });
}

describe("describeContractError", () => {
  it("names the custom error and its arguments", () => {
    const data = encodeErrorResult({ abi: registry, errorName: "AlreadyRegistered", args: [CONTRIBUTOR, 7n] });
    const readable = describeContractError(revertedCall(registry, data), registry);
    expect(readable.errorName).toBe("AlreadyRegistered");
    expect(readable.args).toEqual({ contributor: CONTRIBUTOR, programId: 7n });
    expect(readable.message).toBe(
      `The contract rejected the call with AlreadyRegistered(contributor: ${CONTRIBUTOR}, programId: 7).`,
    );
  });

  it("appends the hint for that error", () => {
    const data = encodeErrorResult({ abi: registry, errorName: "RoundClosed", args: [3n, 2] });
    const readable = describeContractError(revertedCall(registry, data), registry, {
      RoundClosed: "Wait for the next round to open.",
    });
    expect(readable.message).toBe(
      "The contract rejected the call with RoundClosed(round: 3, phase: 2). Wait for the next round to open.",
    );
  });

  it("uses positions for unnamed parameters", () => {
    const data = encodeErrorResult({ abi: registry, errorName: "Unnamed", args: [5n, true] });
    expect(describeContractError(revertedCall(registry, data), registry).args).toEqual({ 0: 5n, 1: true });
  });

  it("decodes revert data against a second ABI when the called contract's ABI lacks the error", () => {
    // The revert came from a contract the called one calls: the caller's ABI does not know it.
    const data = encodeErrorResult({ abi: registry, errorName: "RoundClosed", args: [9n, 1] });
    const readable = describeContractError(revertedCall(parseAbi(["function register(uint256)"]), data), registry);
    expect(readable.errorName).toBe("RoundClosed");
    expect(readable.args).toEqual({ round: 9n, phase: 1 });
  });

  it("finds revert data nested in an RPC error (eth_estimateGas path)", () => {
    const data = encodeErrorResult({ abi: registry, errorName: "AlreadyRegistered", args: [CONTRIBUTOR, 1n] });
    const rpcError = new RpcRequestError({
      body: { method: "eth_estimateGas" },
      url: "http://127.0.0.1:8545",
      error: { code: 3, message: "execution reverted", data },
    });
    const wrapped = new BaseError("Gas estimation failed.", { cause: rpcError });
    expect(describeContractError(wrapped, registry).errorName).toBe("AlreadyRegistered");
  });

  it("reads require() reasons", () => {
    const data = encodeErrorResult({
      abi: parseAbi(["error Error(string)"]),
      errorName: "Error",
      args: ["only the coordinator"],
    });
    expect(describeContractError(revertedCall(registry, data), registry).message).toBe(
      "The contract rejected the call: only the coordinator",
    );
  });

  it("says the ABI is out of date for an unknown selector", () => {
    const other = parseAbi(["error SomethingElse(uint256 x)"]);
    const data = encodeErrorResult({ abi: other, errorName: "SomethingElse", args: [1n] });
    expect(describeContractError(revertedCall(registry, data), registry).message).toMatch(
      /does not know \(selector 0x[0-9a-f]{8}\); the contract's ABI may be out of date/,
    );
  });

  it("tells a person who rejected the wallet prompt that nothing was sent", () => {
    const error = new BaseError("Transaction failed.", { cause: new UserRejectedRequestError(new Error("denied")) });
    expect(describeContractError(error, registry).message).toBe(
      "You rejected the request in your wallet; nothing was sent.",
    );
  });

  it("passes other errors through", () => {
    expect(describeContractError(new Error("offline"), registry).message).toBe("offline");
    expect(describeContractError("boom").message).toBe("boom");
  });
});

describe("formatValue", () => {
  it("renders bigints exactly and nests arrays and structs", () => {
    expect(formatValue(2n ** 70n)).toBe("1180591620717411303424");
    expect(formatValue([1n, "a"])).toBe('[1, "a"]');
    expect(formatValue({ round: 1n, open: false })).toBe("{round: 1, open: false}");
  });
});
