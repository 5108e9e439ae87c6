import { useReadContracts } from "wagmi";
import { NotWired } from "../components/ui";
import { custodianCommitteeAbi, roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { CANCEL_REASON_NAMES, ROUND_PHASE_NAMES, RoundPhase } from "@ciphershare/protocol/chain/constants";
import { useAppContext } from "../context";
import { releasedByLabel, type CommitteeReleaseState, type CommitteeShape } from "./committeeRelease";

/** A round phase as the pages name it ("results published", "reveal", "cancelled"…). */
export function phaseName(phase: number, cancelReason?: number): string {
  const name = (ROUND_PHASE_NAMES[phase] ?? String(phase)).replace("-", " ");
  return phase === RoundPhase.Cancelled && cancelReason ? `${name} (${CANCEL_REASON_NAMES[cancelReason]})` : name;
}

/** The most recent rounds shown; older ones stay on-chain for the Audit page. */
const SHOWN_ROUNDS = 20;

interface RoundView {
  programId: bigint;
  revealDeadline: bigint;
  commitCount: number;
  revealedCount: number;
  includedCount: number;
  publication: number;
  cancelReason: number;
  phase: number;
  releaseHash: `0x${string}`;
}

const ZERO_HASH = `0x${"0".repeat(64)}`;

/**
 * Public round facts from the RoundManager: program, phase, commitments, reveals, what the standing publication
 * included (and its number: an upheld challenge discards one), reveal deadline; and, from the CustodianCommittee,
 * which committee members released the round ("released by member 1, 3 (2 of 3)") or how far its release is.
 */
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

  // Committee programs: who released each round (the decrypting set) and who was dropped as silent.
  const committee = runtime.contracts.CustodianCommittee;
  const views = ids.map((_, i) => rounds.data?.[i]?.result as RoundView | undefined);
  const releases = useReadContracts({
    contracts: ids.map(
      (id) => ({ address: committee, abi: custodianCommitteeAbi, functionName: "releaseOf", args: [id] }) as const,
    ),
    query: { enabled: committee !== undefined && ids.length > 0, refetchInterval: 2_000 },
  });
  const programIds = [...new Set(views.flatMap((v) => (v ? [v.programId] : [])))];
  const committees = useReadContracts({
    contracts: programIds.map(
      (id) => ({ address: committee, abi: custodianCommitteeAbi, functionName: "committeeOf", args: [id] }) as const,
    ),
    query: { enabled: committee !== undefined && programIds.length > 0, refetchInterval: 10_000 },
  });
  const committeeOf = (programId: bigint): CommitteeShape | undefined =>
    committees.data?.[programIds.indexOf(programId)]?.result as CommitteeShape | undefined;

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
            <th>Revealed</th>
            <th>Included</th>
            <th>Publication</th>
            <th>Reveal deadline</th>
            <th>Released by</th>
          </tr>
        </thead>
        <tbody>
          {ids.length === 0 && (
            <tr>
              <td colSpan={9} className="muted">
                No round yet.
              </td>
            </tr>
          )}
          {ids.map((id, i) => {
            const view = views[i];
            const release = releases.data?.[i]?.result as CommitteeReleaseState | undefined;
            return (
              <tr key={id.toString()} data-testid={`round-row-${id}`}>
                <td>{id.toString()}</td>
                <td>{view?.programId.toString() ?? "…"}</td>
                <td>{view ? phaseName(view.phase, view.cancelReason) : "…"}</td>
                <td>{view?.commitCount ?? "…"}</td>
                <td>{view?.revealedCount ?? "…"}</td>
                <td>{view ? (view.publication > 0 ? view.includedCount : "–") : "…"}</td>
                <td>{view ? (view.publication > 0 ? view.publication : "–") : "…"}</td>
                <td>{view ? new Date(Number(view.revealDeadline) * 1000).toISOString().replace(".000Z", "Z") : "…"}</td>
                <td data-testid={`round-released-by-${id}`}>
                  {view ? releasedByLabel(view.releaseHash !== ZERO_HASH, committeeOf(view.programId), release) : "…"}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
