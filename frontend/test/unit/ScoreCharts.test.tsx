import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ScoreCharts } from "../../src/components/ScoreCharts";
import { scoreSeries } from "../../src/dashboard/scoreSeries";

const A = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const B = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

afterEach(cleanup);

describe("ScoreCharts", () => {
  it("says so when no round released scores", () => {
    render(<ScoreCharts series={scoreSeries([])} />);
    expect(screen.getByTestId("scores-empty").textContent).toBe("No round has released scores yet.");
  });

  it("draws one bar per contributor of the latest round and one line per contributor", () => {
    const { container } = render(
      <ScoreCharts
        series={scoreSeries([
          {
            round: 1,
            scores: [
              { contributor: A, score: 0.25 },
              { contributor: B, score: 0.75 },
            ],
          },
          {
            round: 2,
            scores: [
              { contributor: A, score: 0.5 },
              { contributor: B, score: 0.5 },
            ],
          },
        ])}
      />,
    );
    expect(screen.getByText("Round 2: Shapley score per contributor")).toBeTruthy();
    expect(container.querySelectorAll(".recharts-bar-rectangle")).toHaveLength(2);
    expect(container.querySelectorAll(".recharts-line")).toHaveLength(2);
    expect(screen.getAllByText("0xf39F…2266").length).toBeGreaterThan(0);
  });
});
