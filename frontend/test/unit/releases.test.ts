import { describe, expect, it } from "vitest";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { releasedScores as recordScores, type ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { findReleaseAnchors, releasedScores } from "../../src/dashboard/releases";
import { scoreSeries } from "../../src/dashboard/scoreSeries";
import { formatTokenUnits } from "../../src/format";
import { releaseAnchorData } from "@ciphershare/protocol/records/release-anchor";
import type { Address, Hex } from "viem";

const A = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" as Address;
const B = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address;
const CUSTODIAN = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as Address;

function record(round: number, policy: "private" | "public", phi: number[]): ReleaseRecord {
  const contributors = [A, B];
  return {
    kind: "ciphershare.release",
    version: 1,
    round,
    aggregate: `0x${"33".repeat(32)}`,
    scores: `0x${"44".repeat(32)}`,
    globalModel: `0x${"55".repeat(32)}`,
    contributors,
    utilityEmpty: -0.1,
    floodingSigma: 2 ** -28,
    ...recordScores(policy, contributors, phi),
  };
}

describe("released scores on the dashboard", () => {
  it("a public release gives per-contributor scores and the flagged contributors", () => {
    const shown = releasedScores(record(2, "public", [0.004, -0.001]));
    expect(shown.visibility).toBe("public");
    if (shown.visibility !== "public") return;
    expect(shown.scores).toEqual({
      round: 2,
      scores: [
        { contributor: A, score: 0.004 },
        { contributor: B, score: -0.001 },
      ],
    });
    expect(shown.flagged).toEqual([B]);
  });

  it("a private release shows only Σφ and how many contributors, never a score", () => {
    const shown = releasedScores(record(3, "private", [0.004, -0.001]));
    expect(shown).toEqual({ visibility: "private", contributors: 2, phiSum: 0.003 });
  });

  it("bars the chosen round, lines over every public round", () => {
    const rounds = [1, 2].map((r) => releasedScores(record(r, "public", [r * 0.001, 0.002])));
    const series = scoreSeries(
      rounds.flatMap((s) => (s.visibility === "public" ? [s.scores] : [])),
      1,
    );
    expect(series.latestRound).toBe(1);
    expect(series.lines).toHaveLength(2);
    expect(series.bars.map((b) => b.score)).toEqual([0.002, 0.001]);
  });

  it("finds the latest release anchor per round, only from the round's custodian to itself", async () => {
    const hashOne = `0x${"aa".repeat(32)}` as Hex;
    const hashTwo = `0x${"bb".repeat(32)}` as Hex;
    const forged = `0x${"cc".repeat(32)}` as Hex;
    const blocks = [
      [{ from: CUSTODIAN, to: CUSTODIAN, input: releaseAnchorData(1, hashOne) }],
      [{ from: A, to: A, input: releaseAnchorData(1, forged) }],
      [
        { from: CUSTODIAN, to: CUSTODIAN, input: releaseAnchorData(1, hashTwo) },
        { from: CUSTODIAN, to: A, input: "0x" },
      ],
    ];
    const client = {
      getBlockNumber: async () => BigInt(blocks.length - 1),
      getBlock: async ({ blockNumber }: { blockNumber: bigint }) => ({ transactions: blocks[Number(blockNumber)] }),
    } as unknown as Parameters<typeof findReleaseAnchors>[0];
    const anchors = await findReleaseAnchors(client, new Map([[1, CUSTODIAN]]));
    expect(anchors.get(1)).toBe(hashTwo);
    expect(encodeJsonRecord(record(1, "private", [1, 2])).length).toBeGreaterThan(0);
  });

  it("formats royalty token units with six decimals", () => {
    expect(formatTokenUnits(1_000_000_000n)).toBe("1000");
    expect(formatTokenUnits(1_234_500n)).toBe("1.2345");
    expect(formatTokenUnits(7n)).toBe("0.000007");
  });
});
