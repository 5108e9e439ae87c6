import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";
import { usePublicClient } from "wagmi";
import { roundManagerAbi, royaltyDistributorAbi, usageTermsAbi } from "@ciphershare/protocol/chain/abis";
import { useAppContext } from "../context";
import type { UsagePeriodFacts } from "./usagePeriods";

/** The most recent rounds the usage dashboard looks through for usage periods. */
const USAGE_ROUNDS = 20;

/** A usage period's public facts, and whether the connected account is one of its program's artists. */
export interface UsagePeriodView extends UsagePeriodFacts {
  readonly isArtist: boolean;
}

/**
 * The usage periods among the recent rounds (rounds of programs with usage terms), with their public facts: the
 * generation count, the terms' minimum, how many totals are sealed and the settlement's state. Nothing private.
 */
export function useUsagePeriods(account: Address | undefined) {
  const { runtime } = useAppContext();
  const client = usePublicClient();
  const hub = runtime.contracts.RoundManager;
  const terms = runtime.contracts.UsageTerms;
  const distributor = runtime.contracts.RoyaltyDistributor;
  return useQuery({
    queryKey: ["usage-periods", hub, terms, distributor, account],
    enabled: hub !== undefined && terms !== undefined && distributor !== undefined && client !== undefined,
    refetchInterval: 4_000,
    queryFn: async (): Promise<UsagePeriodView[]> => {
      if (!client || !hub || !terms || !distributor) return [];
      const count = Number(
        await client.readContract({ address: hub, abi: roundManagerAbi, functionName: "roundCount" }),
      );
      const usagePrograms = new Map<bigint, { minGenerations: number; artistCount: number; isArtist: boolean }>();
      const periods: UsagePeriodView[] = [];
      for (let id = count; id >= Math.max(1, count - USAGE_ROUNDS + 1); id--) {
        const round = BigInt(id);
        const r = await client.readContract({
          address: hub,
          abi: roundManagerAbi,
          functionName: "round",
          args: [round],
        });
        if (!usagePrograms.has(r.programId)) {
          const isUsage = await client.readContract({
            address: terms,
            abi: usageTermsAbi,
            functionName: "isUsageProgram",
            args: [r.programId],
          });
          if (isUsage) {
            const config = await client.readContract({
              address: terms,
              abi: usageTermsAbi,
              functionName: "termsOf",
              args: [r.programId],
            });
            usagePrograms.set(r.programId, {
              minGenerations: Number(config.minGenerations),
              artistCount: config.artists.length,
              isArtist: account !== undefined && config.artists.some((a) => a.toLowerCase() === account.toLowerCase()),
            });
          }
        }
        const program = usagePrograms.get(r.programId);
        if (program === undefined) continue;
        const [generations, sealedTotals, settlementState, settledCount] = await Promise.all([
          client.readContract({ address: terms, abi: usageTermsAbi, functionName: "generationsOf", args: [round] }),
          client.readContract({ address: terms, abi: usageTermsAbi, functionName: "sealedTotalCount", args: [round] }),
          client.readContract({
            address: distributor,
            abi: royaltyDistributorAbi,
            functionName: "settlementState",
            args: [round],
          }),
          client.readContract({
            address: distributor,
            abi: royaltyDistributorAbi,
            functionName: "settledCount",
            args: [round],
          }),
        ]);
        periods.push({
          round: id,
          programId: Number(r.programId),
          phase: Number(r.phase),
          generations: Number(generations),
          minGenerations: program.minGenerations,
          artistCount: program.artistCount,
          sealedTotals: Number(sealedTotals),
          settlementState: Number(settlementState),
          settledCount: Number(settledCount),
          isArtist: program.isArtist,
        });
      }
      return periods;
    },
  });
}
