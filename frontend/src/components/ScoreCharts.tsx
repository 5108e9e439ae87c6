import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import type { ScoreSeries } from "../dashboard/scoreSeries";
import { shortAddress } from "../format";

const COLOURS = ["#5b8def", "#f5a524", "#17c964", "#f31260", "#9353d3", "#06b7db", "#ff6f3c", "#7a8699"];

/** Per-contributor bars for the latest round and per-round lines, from released scores only. */
export function ScoreCharts({ series, width = 520 }: { series: ScoreSeries; width?: number }) {
  if (series.latestRound === null) {
    return (
      <p className="muted" data-testid="scores-empty">
        No round has released scores yet.
      </p>
    );
  }
  return (
    <div className="charts" data-testid="score-charts">
      <figure>
        <figcaption>Round {series.latestRound}: Shapley score per contributor</figcaption>
        <BarChart
          width={width}
          height={240}
          data={series.bars.map((b) => ({ ...b, label: shortAddress(b.contributor) }))}
        >
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="label" />
          <YAxis />
          <Tooltip />
          <Bar dataKey="score" fill={COLOURS[0]} isAnimationActive={false} />
        </BarChart>
      </figure>
      <figure>
        <figcaption>Scores by round</figcaption>
        <LineChart width={width} height={240} data={[...series.lines]}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="round" />
          <YAxis />
          <Tooltip />
          <Legend />
          {series.contributors.map((contributor, i) => (
            <Line
              key={contributor}
              dataKey={contributor}
              name={shortAddress(contributor)}
              stroke={COLOURS[i % COLOURS.length]}
              connectNulls={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </figure>
    </div>
  );
}
