import { describe, expect, it } from "vitest";
import { scoreSeries } from "../../src/dashboard/scoreSeries";

const A = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const B = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const C = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

describe("scoreSeries", () => {
  it("is empty without rounds", () => {
    expect(scoreSeries([])).toEqual({ contributors: [], lines: [], latestRound: null, bars: [] });
  });

  it("orders rounds, keeps a gap where a contributor sat out, and bars the latest round by score", () => {
    const series = scoreSeries([
      {
        round: 2,
        scores: [
          { contributor: B, score: 0.7 },
          { contributor: C, score: 0.3 },
        ],
      },
      {
        round: 1,
        scores: [
          { contributor: A, score: 0.4 },
          { contributor: B, score: 0.6 },
        ],
      },
    ]);
    expect(series.contributors).toEqual([A, B, C]);
    expect(series.lines).toEqual([
      { round: 1, [A]: 0.4, [B]: 0.6 },
      { round: 2, [B]: 0.7, [C]: 0.3 },
    ]);
    expect(series.latestRound).toBe(2);
    expect(series.bars).toEqual([
      { contributor: B, score: 0.7 },
      { contributor: C, score: 0.3 },
    ]);
  });

  it("treats differently-cased addresses as one contributor", () => {
    const series = scoreSeries([
      { round: 1, scores: [{ contributor: A.toLowerCase() as `0x${string}`, score: 1 }] },
      { round: 2, scores: [{ contributor: A, score: 2 }] },
    ]);
    expect(series.contributors).toEqual([A]);
  });

  it("rejects a round released twice and a score that is not a number", () => {
    expect(() =>
      scoreSeries([
        { round: 1, scores: [] },
        { round: 1, scores: [] },
      ]),
    ).toThrow("Round 1 was released twice.");
    expect(() => scoreSeries([{ round: 4, scores: [{ contributor: A, score: Number.NaN }] }])).toThrow(
      `Round 4: score of ${A} is not a number.`,
    );
  });
});
