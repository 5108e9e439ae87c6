import { useQuery } from "@tanstack/react-query";
import { programRegistryAbi, roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import type { TrainingTerms } from "@ciphershare/protocol/records/training-terms";
import type { Hex } from "viem";
import { useReadContract } from "wagmi";
import { programRegistryAddress } from "../contracts/deployment";
import { useAppContext } from "../context";
import { fetchTrainingTerms } from "./trainingProgram";

/** A round of a training program, with the program's keys and its verified terms. */
export interface TrainingRound {
  readonly roundId: bigint;
  readonly programId: bigint;
  readonly phase: number;
  /** The program key's bundle hash (providers encrypt under it). */
  readonly publicKeyHash: Hex;
  /** keccak256 of the buyer's bundle (only its key decrypts W). */
  readonly buyerKeyHash: Hex;
  readonly terms: TrainingTerms;
}

/**
 * Reads round → program → terms (checked against `termsHash`, kind Training). `error` says why the round cannot be
 * used; `round` is set once everything checked.
 */
export function useTrainingRound(roundId: bigint | undefined): {
  round: TrainingRound | null;
  error: string | null;
  loading: boolean;
} {
  const { runtime } = useAppContext();
  const hub = runtime.contracts.RoundManager;
  const registry = programRegistryAddress(runtime);
  const round = useReadContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "round",
    args: roundId === undefined ? undefined : [roundId],
    query: { enabled: hub !== undefined && roundId !== undefined, refetchInterval: 2_000 },
  });
  const programId = round.data && round.data.programId > 0n ? round.data.programId : undefined;
  const program = useReadContract({
    address: registry,
    abi: programRegistryAbi,
    functionName: "program",
    args: programId === undefined ? undefined : [programId],
    query: { enabled: registry !== undefined && programId !== undefined },
  });
  const coprocessorUrl = runtime.coprocessorUrl;
  const terms = useQuery({
    queryKey: ["training-terms", coprocessorUrl, programId?.toString(), program.data?.termsHash, program.data?.kind],
    enabled: coprocessorUrl !== null && programId !== undefined && program.data !== undefined,
    retry: false,
    staleTime: Infinity,
    queryFn: () =>
      fetchTrainingTerms(coprocessorUrl!, programId!, { kind: program.data!.kind, termsHash: program.data!.termsHash }),
  });

  if (!hub || !registry) return { round: null, error: "No RoundManager in the deployment.", loading: false };
  if (!coprocessorUrl) return { round: null, error: "No coprocessor URL (blob store) configured.", loading: false };
  if (roundId === undefined) return { round: null, error: "Enter a round number.", loading: false };
  if (round.isError) return { round: null, error: `Round ${roundId} cannot be read.`, loading: false };
  if (round.data && programId === undefined) {
    return { round: null, error: `Round ${roundId} does not exist (yet).`, loading: false };
  }
  if (program.isError) return { round: null, error: `Program ${programId} cannot be read.`, loading: false };
  if (terms.error) return { round: null, error: terms.error.message, loading: false };
  if (!round.data || !program.data || !terms.data || programId === undefined) {
    return { round: null, error: null, loading: true };
  }
  return {
    round: {
      roundId,
      programId,
      phase: Number(round.data.phase),
      publicKeyHash: program.data.publicKeyHash,
      buyerKeyHash: program.data.buyerKeyHash,
      terms: terms.data,
    },
    error: null,
    loading: false,
  };
}
