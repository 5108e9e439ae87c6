import { Card, NotWired } from "../components/ui";

export function AuditPage() {
  return (
    <div className="page" data-testid="page-audit">
      <h1>Audit</h1>
      <p className="lead">
        Pick a round to see every on-chain commitment, whether the blobs behind it hash to what was committed, and the
        auditor&apos;s verdict.
      </p>
      <Card title="Round">
        <select disabled aria-label="Round">
          <option>No rounds available</option>
        </select>
        <NotWired needs="the round contract's ABI" />
      </Card>
      <Card title="Commitments">
        <table className="table">
          <thead>
            <tr>
              <th>Contributor</th>
              <th>Committed hash</th>
              <th>Blob</th>
              <th>Match</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td colSpan={4} className="muted">
                Nothing to show yet.
              </td>
            </tr>
          </tbody>
        </table>
        <NotWired needs="the commitment events and the coprocessor's blob endpoint" />
      </Card>
      <Card title="Auditor verdict">
        <NotWired needs="the auditor contract's ABI" />
      </Card>
    </div>
  );
}
