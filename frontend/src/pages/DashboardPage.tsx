import { Card, Field } from "../components/ui";
import { ReleasedScoresPanel } from "../dashboard/ReleasedScoresPanel";
import { useAppContext } from "../context";
import { RoundsTable } from "../dashboard/RoundsTable";
import { useChainStatus } from "../hooks/useChainStatus";
import { UsagePeriodsCard } from "../usage/UsagePeriodsCard";

export function DashboardPage() {
  const { runtime } = useAppContext();
  const chain = useChainStatus();
  const deployed = Object.entries(runtime.contracts);
  return (
    <div className="page" data-testid="page-dashboard">
      <h1>Network dashboard</h1>
      <p className="lead">
        Public facts only: programs, rounds, pool sizes where public, released scores. Never a raw update.
      </p>
      <div className="grid two">
        <Card title="Chain">
          <Field label="Chain id" testId="dashboard-chain-id">
            {chain.data?.chainId ?? (chain.isError ? "unreachable" : "…")}
          </Field>
          <Field label="Latest block">{chain.data?.blockNumber.toString() ?? "…"}</Field>
          <Field label="Block time">
            {chain.data ? new Date(Number(chain.data.blockTimestamp) * 1000).toISOString().replace(".000Z", "Z") : "…"}
          </Field>
        </Card>
        <Card title="Deployed contracts">
          {deployed.length === 0 ? (
            <p className="muted">No deployment given to this app yet.</p>
          ) : (
            deployed.map(([name, address]) => (
              <Field key={name} label={name}>
                <code>{address}</code>
              </Field>
            ))
          )}
        </Card>
      </div>
      <Card title="Programs and rounds">
        <RoundsTable />
      </Card>
      <ReleasedScoresPanel />
      <UsagePeriodsCard />
    </div>
  );
}
