import { useQuery } from "@tanstack/react-query";
import type { Address, Hex } from "viem";
import { usePublicClient } from "wagmi";
import { roundManagerAbi, royaltyDistributorAbi } from "@ciphershare/protocol/chain/abis";
import { useAppContext } from "../context";
import { fetchReleaseRecord, findReleaseAnchors, releasedScores, type ReleasedScores } from "./releases";

/** The most recent rounds the dashboard reads releases for. */
const RELEASE_ROUNDS = 20;

export interface RoundRelease {
  readonly round: number;
  readonly programId: number;
  readonly phase: number;
  readonly contributions: number;
  readonly excluded: number;
  /** Undefined until the custodian anchored a release for the round. */
  readonly release?: ReleasedScores;
  readonly releaseError?: string;
}

/** Rounds with their public release (if any): chain reads, the custodians' anchors, and the records' blobs. */
export function useRoundReleases() {
  const { runtime } = useAppContext();
  const client = usePublicClient();
  const hub = runtime.contracts.RoundManager;
  return useQuery({
    queryKey: ["round-releases", hub, runtime.coprocessorUrl],
    enabled: hub !== undefined && client !== undefined,
    refetchInterval: 4_000,
    queryFn: async (): Promise<RoundRelease[]> => {
      if (!client || !hub) return [];
      const count = Number(
        await client.readContract({ address: hub, abi: roundManagerAbi, functionName: "roundCount" }),
      );
      const rounds: RoundRelease[] = [];
      const custodianOf = new Map<number, Address>();
      for (let id = Math.max(1, count - RELEASE_ROUNDS + 1); id <= count; id++) {
        const round = await client.readContract({
          address: hub,
          abi: roundManagerAbi,
          functionName: "round",
          args: [BigInt(id)],
        });
        const program = await client.readContract({
          address: hub,
          abi: roundManagerAbi,
          functionName: "program",
          args: [round.programId],
        });
        custodianOf.set(id, program.custodian);
        rounds.push({
          round: id,
          programId: Number(round.programId),
          phase: Number(round.phase),
          contributions: Number(round.commitCount),
          excluded: Number(round.excludedCount),
        });
      }
      const anchors = await findReleaseAnchors(client, custodianOf);
      return Promise.all(
        rounds.map(async (round) => {
          const hash = anchors.get(round.round);
          if (hash === undefined || runtime.coprocessorUrl === null) return round;
          try {
            return { ...round, release: releasedScores(await fetchReleaseRecord(runtime.coprocessorUrl, hash)) };
          } catch (error) {
            return { ...round, releaseError: error instanceof Error ? error.message : String(error) };
          }
        }),
      );
    },
  });
}

/**
 * Pool sizes: each funded round's pool handle is publicly decryptable by design (the distributor makes it so,
 * for the shares-sum-to-pool check), so anyone can read it through the fhEVM's public decryption.
 */
export function usePoolSizes(rounds: readonly number[]) {
  const { runtime } = useAppContext();
  const client = usePublicClient();
  const distributor = runtime.contracts.RoyaltyDistributor;
  return useQuery({
    queryKey: ["pool-sizes", distributor, rounds.join(",")],
    enabled: distributor !== undefined && client !== undefined && rounds.length > 0,
    refetchInterval: 6_000,
    queryFn: async (): Promise<Map<number, bigint>> => {
      const pools = new Map<number, bigint>();
      if (!client || !distributor) return pools;
      const handles = new Map<number, Hex>();
      for (const round of rounds) {
        const handle = await client.readContract({
          address: distributor,
          abi: royaltyDistributorAbi,
          functionName: "poolOf",
          args: [BigInt(round)],
        });
        if (BigInt(handle) !== 0n) handles.set(round, handle);
      }
      if (handles.size === 0) return pools;
      const [{ initSDK }, { FhevmClient }] = await Promise.all([
        import("@zama-fhe/relayer-sdk/web"),
        import("@ciphershare/coprocessor/chain/fhevmClient"),
      ]);
      await initSDK();
      const fhevm = await FhevmClient.connect(runtime.rpcUrl);
      const clear = (await fhevm.publicDecrypt([...handles.values()])).clearValues;
      for (const [round, handle] of handles) {
        const value = clear[handle];
        if (typeof value === "bigint") pools.set(round, value);
      }
      return pools;
    },
  });
}
