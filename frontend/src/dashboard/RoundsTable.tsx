import { useReadContracts } from "wagmi";
import { NotWired } from "../components/ui";
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { useAppContext } from "../context";

export const ROUND_PHASES = ["none", "open", "closed", "results published", "challenged", "finalized"] as const;

/** The most recent rounds shown; older ones stay on-chain for the Audit page. */
const SHOWN_ROUNDS = 20;

interface RoundView {
  programId: bigint;
  commitDeadline: bigint;
  commitCount: number;
  excludedCount: number;
  phase: number;
}

/** Public round facts from the RoundManager: program, phase, commitments, exclusions, deadline. */
export function RoundsTable() {
  const { runtime } = useAppContext();
  const hub = runtime.contracts.RoundManager;
  const counts = useReadContracts({
    contracts: [
      { address: hub, abi: roundManagerAbi, functionName: "programCount" },
      { address: hub, abi: roundManagerAbi, functionName: "roundCount" },
    ],
    query: { enabled: hub !== undefined, refetchInterval: 2_000 },
  });
  const programCount = counts.data?.[0]?.result;
  const roundCount = Number(counts.data?.[1]?.result ?? 0n);
  const ids = Array.from({ length: Math.min(roundCount, SHOWN_ROUNDS) }, (_, i) => BigInt(roundCount - i));
  const rounds = useReadContracts({
    contracts: ids.map((id) => ({ address: hub, abi: roundManagerAbi, functionName: "round", args: [id] }) as const),
    query: { enabled: hub !== undefined && ids.length > 0, refetchInterval: 2_000 },
  });

  if (!hub) return <NotWired needs="a deployment with the RoundManager address" />;
  return (
    <div data-testid="rounds">
      <p className="muted">
        {programCount === undefined ? "…" : `${programCount} program${programCount === 1n ? "" : "s"}`}, {roundCount}{" "}
        round{roundCount === 1 ? "" : "s"}.
      </p>
      <table className="table">
        <thead>
          <tr>
            <th>Round</th>
            <th>Program</th>
            <th>Phase</th>
            <th>Contributions</th>
            <th>Excluded</th>
            <th>Commit deadline</th>
          </tr>
        </thead>
        <tbody>
          {ids.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                No round yet.
              </td>
            </tr>
          )}
          {ids.map((id, i) => {
            const view = rounds.data?.[i]?.result as RoundView | undefined;
            return (
              <tr key={id.toString()} data-testid={`round-row-${id}`}>
                <td>{id.toString()}</td>
                <td>{view?.programId.toString() ?? "…"}</td>
                <td>{view ? (ROUND_PHASES[view.phase] ?? view.phase) : "…"}</td>
                <td>{view?.commitCount ?? "…"}</td>
                <td>{view?.excludedCount ?? "…"}</td>
                <td>{view ? new Date(Number(view.commitDeadline) * 1000).toISOString().replace(".000Z", "Z") : "…"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
