import { useCallback, useRef, useState } from "react";
import type { Abi, Address, ContractFunctionArgs, ContractFunctionName, Hex, TransactionReceipt } from "viem";
import { useConfig } from "wagmi";
import { simulateContract, waitForTransactionReceipt, writeContract } from "wagmi/actions";
import { describeContractError, type ErrorHints, type ReadableError } from "../errors/decodeContractError";

/** Where a contract transaction is, in the words the page shows. */
export type TransactionState =
  | { readonly status: "idle" }
  /** eth_call first: a revert is caught and decoded before the wallet asks for a signature. */
  | { readonly status: "simulating" }
  | { readonly status: "signing" }
  | { readonly status: "pending"; readonly hash: Hex }
  | { readonly status: "confirmed"; readonly hash: Hex; readonly receipt: TransactionReceipt }
  | { readonly status: "failed"; readonly error: ReadableError; readonly hash?: Hex };

type Mutability = "nonpayable" | "payable";

export interface ContractCall<abi extends Abi, functionName extends ContractFunctionName<abi, Mutability>> {
  readonly address: Address;
  readonly abi: abi;
  readonly functionName: functionName;
  readonly args: ContractFunctionArgs<abi, Mutability, functionName>;
  readonly value?: bigint;
}

/**
 * Simulates, sends and waits for one contract call with the connected wallet, and turns any failure
 * into a message naming the custom error. `errorAbi` holds every error the call may revert with
 * (the called contract's and those of contracts it calls).
 */
export function useContractTransaction(errorAbi: Abi, hints: ErrorHints = {}) {
  const config = useConfig();
  const [state, setState] = useState<TransactionState>({ status: "idle" });
  // A second click while one transaction runs is ignored rather than sending twice.
  const running = useRef(false);

  const run = useCallback(
    async <const abi extends Abi, functionName extends ContractFunctionName<abi, Mutability>>(
      call: ContractCall<abi, functionName>,
    ): Promise<TransactionReceipt | undefined> => {
      if (running.current) return undefined;
      running.current = true;
      let hash: Hex | undefined;
      const fullAbi: Abi = [...call.abi, ...errorAbi];
      try {
        setState({ status: "simulating" });
        const { request } = await simulateContract(config, call as never);
        setState({ status: "signing" });
        hash = await writeContract(config, request as never);
        setState({ status: "pending", hash });
        const receipt = await waitForTransactionReceipt(config, { hash });
        if (receipt.status === "reverted") {
          setState({
            status: "failed",
            hash,
            error: {
              message: "The transaction was included but reverted; the chain changed since it was checked. Try again.",
            },
          });
          return undefined;
        }
        setState({ status: "confirmed", hash, receipt });
        return receipt;
      } catch (error) {
        setState({ status: "failed", hash, error: describeContractError(error, fullAbi, hints) });
        return undefined;
      } finally {
        running.current = false;
      }
    },
    [config, errorAbi, hints],
  );

  const reset = useCallback(() => setState({ status: "idle" }), []);
  return { state, run, reset };
}
