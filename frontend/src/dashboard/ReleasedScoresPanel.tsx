import { useState } from "react";
import type { Address } from "viem";
import { ScoreCharts } from "../components/ScoreCharts";
import { Card } from "../components/ui";
import { formatTokenUnits } from "../format";
import { RoundPhase } from "@ciphershare/protocol/chain/constants";
import { phaseName } from "./RoundsTable";
import { scoreSeries, type RoundScores } from "./scoreSeries";
import { usePoolSizes, useRoundReleases, type RoundRelease } from "./useReleases";

/** Rounds, pools and released Shapley scores: charts for rounds whose manifest made φ public, Σφ only otherwise. */
export function ReleasedScoresPanel() {
  const releases = useRoundReleases();
  const rounds = releases.data ?? [];
  const pools = usePoolSizes(
    rounds.filter((r) => r.phase === RoundPhase.Finalized || r.phase === RoundPhase.Cancelled).map((r) => r.round),
  );
  const publicRounds: RoundScores[] = rounds.flatMap((r) =>
    r.release?.visibility === "public" ? [r.release.scores] : [],
  );
  const released = rounds.filter((r) => r.release !== undefined);
  const [chosen, setChosen] = useState<number | undefined>(undefined);
  const selected: RoundRelease | undefined = released.find((r) => r.round === chosen) ?? released.at(-1);
  const series = scoreSeries(publicRounds, selected?.round);
  const flagged = rounds.flatMap((r) =>
    r.release?.visibility === "public" ? r.release.flagged.map((address) => ({ round: r.round, address })) : [],
  );

  return (
    <>
      <Card title="Rounds, pools and releases" testId="releases">
        {releases.isError && <p className="error">Could not read the releases: {releases.error.message}</p>}
        <table className="table">
          <thead>
            <tr>
              <th>Round</th>
              <th>Phase</th>
              <th>Contributors</th>
              <th>Pool</th>
              <th>Scores</th>
              <th>Σφ</th>
            </tr>
          </thead>
          <tbody>
            {rounds.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  {releases.isLoading ? "Reading the chain…" : "No round yet."}
                </td>
              </tr>
            )}
            {rounds.map((r) => {
              const pool = pools.data?.get(r.round);
              return (
                <tr key={r.round} data-testid={`release-row-${r.round}`}>
                  <td>{r.round}</td>
                  <td>{phaseName(r.phase)}</td>
                  <td>
                    {r.contributions}
                    {r.excluded > 0 ? ` (${r.excluded} excluded)` : ""}
                  </td>
                  <td data-testid={`pool-${r.round}`}>
                    {pool !== undefined
                      ? formatTokenUnits(pool)
                      : r.phase >= 5
                        ? "not funded / …"
                        : "public once finalized"}
                  </td>
                  <td>
                    {r.release === undefined
                      ? (r.releaseError ?? "not released")
                      : r.release.visibility === "public"
                        ? "public"
                        : "private"}
                  </td>
                  <td>{r.release ? r.release.phiSum.toExponential(3) : "–"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Card>
      <Card title="Shapley scores released" testId="scores">
        {released.length > 0 && (
          <label className="inline">
            Round{" "}
            <select
              data-testid="scores-round"
              value={selected?.round ?? ""}
              onChange={(event) => setChosen(Number(event.target.value))}
            >
              {released.map((r) => (
                <option key={r.round} value={r.round}>
                  {r.round}
                </option>
              ))}
            </select>
          </label>
        )}
        {selected?.release?.visibility === "private" ? (
          <p className="muted" data-testid="scores-private">
            Scores are private for round {selected.round}: its manifest keeps φ with the custodian, and the release
            shows only Σφ = {selected.release.phiSum.toExponential(4)} over {selected.release.contributors} contributors
            (public φ and a public pool would reveal every royalty).
          </p>
        ) : (
          <ScoreCharts series={series} />
        )}
      </Card>
      <Card title="Flagged contributors" testId="flagged">
        {flagged.length === 0 ? (
          <p className="muted">No contributor flagged in a round with public scores.</p>
        ) : (
          <ul>
            {flagged.map(({ round, address }) => (
              <li key={`${round}-${address}`} data-testid="flagged-contributor">
                round {round}: <code>{address as Address}</code> (φ ≤ 0, no share)
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
