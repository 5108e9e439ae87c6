// The usage dashboard's pure parts (docs/usage.md, docs/frontend.md): what a usage period's public facts say, and an
// artist's decrypted usage total as the page prints it. No chain access here: the hooks read, these functions tell.
import { RoundPhase, SettlementState } from "@ciphershare/protocol/chain/constants";
import { USAGE_TOTAL_SCALE, usageTotalFromUnits } from "@ciphershare/protocol/chain/usage-terms";

/** A usage period's public facts, as the chain states them (`RoundManager`, `UsageTerms`, `RoyaltyDistributor`). */
export interface UsagePeriodFacts {
  readonly round: number;
  readonly programId: number;
  readonly phase: number;
  /** `UsageTerms.generationsOf`: the operator's included report's public count (0 while none is included). */
  readonly generations: number;
  /** The terms' minimum generations for the period to be released and settled. */
  readonly minGenerations: number;
  readonly artistCount: number;
  /** `UsageTerms.sealedTotalCount`: artists whose total the custodian sealed to them. */
  readonly sealedTotals: number;
  /** `RoyaltyDistributor.settlementState`. */
  readonly settlementState: number;
  /** `RoyaltyDistributor.settledCount`: artists settled so far. */
  readonly settledCount: number;
}

/** Where a usage period stands, in one phrase for the dashboard. */
export function usagePeriodStatus(p: UsagePeriodFacts): string {
  switch (p.phase) {
    case RoundPhase.Open:
      return "open: the operator reports";
    case RoundPhase.Reveal:
      return "reveal: the operator's report is opened";
    case RoundPhase.Closed:
      return "closed: the coprocessor sums the usage";
    case RoundPhase.ResultsPublished:
    case RoundPhase.Challenged:
      return "totals published: dispute window";
    case RoundPhase.Cancelled:
      return "cancelled";
    case RoundPhase.Finalized:
      break;
    default:
      return `phase ${p.phase}`;
  }
  if (p.settlementState === SettlementState.Recovered) return "pool recovered by the network";
  if (p.generations < Math.max(1, p.minGenerations)) {
    return `too few generations (${p.generations} < ${Math.max(1, p.minGenerations)}): never released`;
  }
  if (p.settlementState === SettlementState.Completed) return "settled: artists claim";
  if (p.sealedTotals < p.artistCount) return "finalized: the custodian releases the totals";
  if (p.settledCount < p.artistCount) return "released: totals sealed to the artists; settlement pending";
  return "released and settled";
}

/** An artist's decrypted usage total (euint64 millionths) as printed: six decimals, generations' worth. */
export function usageTotalText(units: bigint): string {
  const scale = BigInt(USAGE_TOTAL_SCALE);
  const whole = units / scale;
  const fraction = (units % scale).toString().padStart(String(USAGE_TOTAL_SCALE).length - 1, "0");
  return `${whole.toLocaleString("en-US")}.${fraction}`;
}

/** The artist's usage as a fraction of the period's generations (each generation carries at most the cap). */
export function usagePerGeneration(units: bigint, generations: number): number | undefined {
  return generations > 0 ? usageTotalFromUnits(units) / generations : undefined;
}
