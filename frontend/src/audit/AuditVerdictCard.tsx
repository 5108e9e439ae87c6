import { useState } from "react";
import { Card } from "../components/ui";
import { fetchAuditVerdict, type AuditVerdict } from "./auditVerdict";

type VerdictState =
  | { readonly status: "idle" }
  | { readonly status: "running" }
  | { readonly status: "done"; readonly verdict: AuditVerdict }
  | { readonly status: "failed"; readonly message: string };

/** The auditor's verdict for a round: every named check, passed or failed, with what it compared. */
export function AuditVerdictCard({ round }: { round: bigint | undefined }) {
  const [state, setState] = useState<VerdictState>({ status: "idle" });
  const run = async () => {
    if (round === undefined) return;
    setState({ status: "running" });
    try {
      setState({ status: "done", verdict: await fetchAuditVerdict(round) });
    } catch (error) {
      setState({ status: "failed", message: error instanceof Error ? error.message : String(error) });
    }
  };
  const shown = state.status === "done" && round !== undefined && BigInt(state.verdict.round) === round;
  return (
    <Card title="Auditor verdict" testId="audit-verdict">
      <p className="muted">
        The auditor re-derives the round from chain reads and public blobs only: it re-runs FedAvg and the encrypted
        Shapley computation and compares hashes (this takes a while).
      </p>
      <button
        type="button"
        className="primary"
        disabled={round === undefined || state.status === "running"}
        onClick={() => void run()}
        data-testid="audit-run"
      >
        {state.status === "running" ? "Auditing…" : "Run the auditor"}
      </button>
      {state.status === "failed" && (
        <p className="error" role="alert">
          {state.message}
        </p>
      )}
      {shown && (
        <>
          <p className={state.verdict.passed ? "ok" : "error"} data-testid="audit-passed">
            Round {state.verdict.round}: {state.verdict.passed ? "every check passed" : "some checks failed"}.
          </p>
          <table className="table">
            <thead>
              <tr>
                <th>Check</th>
                <th>Result</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {state.verdict.checks.map((check) => (
                <tr key={check.name} data-testid="audit-check">
                  <td>
                    <code>{check.name}</code>
                  </td>
                  <td className={check.passed ? "ok" : "error"}>{check.passed ? "pass" : "FAIL"}</td>
                  <td>{check.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Card>
  );
}
