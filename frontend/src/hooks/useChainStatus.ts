import { useQuery } from "@tanstack/react-query";
import { createPublicClient, http } from "viem";
import { useMemo } from "react";
import { useAppContext } from "../context";

export interface ChainStatus {
  readonly chainId: number;
  readonly blockNumber: bigint;
  readonly blockTimestamp: bigint;
}

/** Asks the configured RPC endpoint itself (not the wallet) which chain it is and how far it got. */
export function useChainStatus() {
  const { runtime } = useAppContext();
  const client = useMemo(
    () => createPublicClient({ transport: http(runtime.rpcUrl, { retryCount: 0 }) }),
    [runtime.rpcUrl],
  );
  return useQuery({
    queryKey: ["chainStatus", runtime.rpcUrl],
    queryFn: async (): Promise<ChainStatus> => {
      const [chainId, block] = await Promise.all([client.getChainId(), client.getBlock()]);
      return { chainId, blockNumber: block.number, blockTimestamp: block.timestamp };
    },
    refetchInterval: 2_000,
    retry: false,
  });
}
