import { useCallback, useState } from "react";
import type { Address, Hex } from "viem";
import { useConfig } from "wagmi";
import { signTypedData } from "wagmi/actions";
import { useAppContext } from "../context";

export type DecryptState =
  | { readonly status: "idle" }
  | { readonly status: "working"; readonly step: string }
  | { readonly status: "done"; readonly value: bigint }
  | { readonly status: "failed"; readonly message: string };

/**
 * fhEVM user decryption of one euint64 handle for the connected account: the wallet signs one EIP-712
 * request and only this page sees the clear value. Uses the shared chain client (mock relayer on the
 * local chain); the relayer SDK's web build is initialised first.
 */
export function useUserDecrypt() {
  const config = useConfig();
  const { runtime } = useAppContext();
  const [state, setState] = useState<DecryptState>({ status: "idle" });

  const decrypt = useCallback(
    async (handle: Hex, contractAddress: Address, account: Address) => {
      try {
        setState({ status: "working", step: "Loading the fhEVM client…" });
        const [{ initSDK }, { FhevmClient }] = await Promise.all([
          import("@zama-fhe/relayer-sdk/web"),
          import("@ciphershare/coprocessor/chain/fhevmClient"),
        ]);
        await initSDK();
        const client = await FhevmClient.connect(runtime.rpcUrl);
        setState({ status: "working", step: "Sign the decryption request in your wallet…" });
        const value = await client.userDecryptUint64(handle, contractAddress, {
          getAddress: async () => account,
          signTypedData: (domain, types, message) => {
            const primaryType = Object.keys(types).find((name) => name !== "EIP712Domain")!;
            return signTypedData(config, { account, domain, types, primaryType, message } as never);
          },
        });
        setState({ status: "done", value });
      } catch (error) {
        const { shortMessage, message } = error as { shortMessage?: string; message?: string };
        setState({ status: "failed", message: shortMessage ?? message ?? String(error) });
      }
    },
    [config, runtime.rpcUrl],
  );
  return { state, decrypt };
}
