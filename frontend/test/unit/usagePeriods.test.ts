import { describe, expect, it } from "vitest";
import { RoundPhase, SettlementState } from "@ciphershare/protocol/chain/constants";
import { usageTotalUnits } from "@ciphershare/protocol/chain/usage-terms";
import {
  usagePerGeneration,
  usagePeriodStatus,
  usageTotalText,
  type UsagePeriodFacts,
} from "../../src/usage/usagePeriods";

const period = (overrides: Partial<UsagePeriodFacts> = {}): UsagePeriodFacts => ({
  round: 1,
  programId: 2,
  phase: RoundPhase.Finalized,
  generations: 2999,
  minGenerations: 100,
  artistCount: 6,
  sealedTotals: 0,
  settlementState: SettlementState.Open,
  settledCount: 0,
  ...overrides,
});

describe("usage dashboard", () => {
  it("says where a period stands from its public facts only", () => {
    expect(usagePeriodStatus(period({ phase: RoundPhase.Open }))).toBe("open: the operator reports");
    expect(usagePeriodStatus(period({ phase: RoundPhase.ResultsPublished }))).toBe("totals published: dispute window");
    expect(usagePeriodStatus(period())).toBe("finalized: the custodian releases the totals");
    expect(usagePeriodStatus(period({ sealedTotals: 6 }))).toBe(
      "released: totals sealed to the artists; settlement pending",
    );
    expect(usagePeriodStatus(period({ sealedTotals: 6, settledCount: 6 }))).toBe("released and settled");
    expect(usagePeriodStatus(period({ sealedTotals: 6, settlementState: SettlementState.Completed }))).toBe(
      "settled: artists claim",
    );
    expect(usagePeriodStatus(period({ generations: 40 }))).toBe("too few generations (40 < 100): never released");
    expect(usagePeriodStatus(period({ generations: 0, minGenerations: 0 }))).toBe(
      "too few generations (0 < 1): never released",
    );
    expect(usagePeriodStatus(period({ settlementState: SettlementState.Recovered }))).toBe(
      "pool recovered by the network",
    );
    expect(usagePeriodStatus(period({ phase: RoundPhase.Cancelled }))).toBe("cancelled");
  });

  it("prints a sealed total exactly from its millionths, as the custodian sealed it", () => {
    expect(usageTotalText(3_811_345_812n)).toBe("3,811.345812");
    expect(usageTotalText(5n)).toBe("0.000005");
    expect(usageTotalText(0n)).toBe("0.000000");
    // The custodian's rounding: flooding noise at or below the resolution (even negative) seals as 0.
    expect(usageTotalUnits(3811.3458123)).toBe(3_811_345_812n);
    expect(usageTotalUnits(-2e-9, 1e-6)).toBe(0n);
    expect(usageTotalUnits(3e-7, 1e-6)).toBe(0n);
    expect(() => usageTotalUnits(Number.NaN)).toThrow(/not a finite number/);
    expect(() => usageTotalUnits(2e13)).toThrow(/does not fit/);
  });

  it("relates an artist's usage to the period's generations", () => {
    expect(usagePerGeneration(1_500_000_000n, 3000)).toBeCloseTo(0.5, 12);
    expect(usagePerGeneration(0n, 0)).toBeUndefined();
  });
});
