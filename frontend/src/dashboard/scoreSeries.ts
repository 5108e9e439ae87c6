import { getAddress, type Address } from "viem";

/** Shapley scores a round released publicly (never the updates behind them). */
export interface RoundScores {
  readonly round: number;
  readonly scores: readonly { readonly contributor: Address; readonly score: number }[];
}

export interface BarDatum {
  readonly contributor: Address;
  readonly score: number;
}

/** One point per round; one key per contributor, absent when the contributor sat that round out. */
export type LineDatum = { readonly round: number } & Readonly<Record<Address, number>>;

export interface ScoreSeries {
  /** Every contributor seen, in first-appearance order, for the line chart's legend and colours. */
  readonly contributors: readonly Address[];
  readonly lines: readonly LineDatum[];
  /** Bars for the chosen round (the latest by default). */
  readonly latestRound: number | null;
  readonly bars: readonly BarDatum[];
}

/**
 * Shapes released scores for the charts: lines over every round, bars for `barRound` (the latest when absent or
 * not released). Rejects a round released twice: that is a data error.
 */
export function scoreSeries(rounds: readonly RoundScores[], barRound?: number): ScoreSeries {
  const sorted = [...rounds].sort((a, b) => a.round - b.round);
  const contributors: Address[] = [];
  const seen = new Set<Address>();
  const lines: LineDatum[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const { round, scores } = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.round === round) throw new Error(`Round ${round} was released twice.`);
    const point: Record<string, number> = { round };
    for (const { contributor, score } of scores) {
      const address = getAddress(contributor);
      if (!Number.isFinite(score)) throw new Error(`Round ${round}: score of ${address} is not a number.`);
      if (!seen.has(address)) {
        seen.add(address);
        contributors.push(address);
      }
      point[address] = score;
    }
    lines.push(point as LineDatum);
  }
  const latest = sorted.find((r) => r.round === barRound) ?? sorted.at(-1);
  const bars = latest
    ? latest.scores
        .map(({ contributor, score }) => ({ contributor: getAddress(contributor), score }))
        .sort((a, b) => b.score - a.score)
    : [];
  return { contributors, lines, latestRound: latest?.round ?? null, bars };
}
