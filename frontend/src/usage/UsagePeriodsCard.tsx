import type { Address } from "viem";
import { useConnection, useReadContract } from "wagmi";
import { royaltyDistributorAbi, usageTermsAbi } from "@ciphershare/protocol/chain/abis";
import { RoundPhase } from "@ciphershare/protocol/chain/constants";
import { Card, NotWired } from "../components/ui";
import { useAppContext } from "../context";
import { formatTokenUnits } from "../format";
import { usePoolSizes } from "../dashboard/useReleases";
import { useUserDecrypt } from "../royalties/useUserDecrypt";
import { usagePerGeneration, usagePeriodStatus, usageTotalText } from "./usagePeriods";
import { useUsagePeriods, type UsagePeriodView } from "./useUsagePeriods";

/**
 * Usage-metered programs (docs/usage.md): each period's public facts — generations counted, pool, status — and, for
 * the connected artist, its own usage total and royalty, each decrypted in the browser by one EIP-712 signature
 * (fhEVM user decryption, as on the royalties page). The chain's ACL lets an artist decrypt only its own.
 */
export function UsagePeriodsCard() {
  const { runtime } = useAppContext();
  const account = useConnection().address;
  const periods = useUsagePeriods(account);
  const rows = periods.data ?? [];
  const pools = usePoolSizes(rows.filter((p) => p.phase === RoundPhase.Finalized).map((p) => p.round));
  if (!runtime.contracts.UsageTerms || !runtime.contracts.RoyaltyDistributor) {
    return (
      <Card title="Usage periods">
        <NotWired needs="a deployment with the UsageTerms and RoyaltyDistributor addresses" />
      </Card>
    );
  }
  const mine = rows.filter((p) => p.isArtist && p.phase === RoundPhase.Finalized);
  return (
    <Card title="Usage periods" testId="usage-periods">
      {periods.isError && <p className="error">Could not read the usage periods: {periods.error.message}</p>}
      <table className="table">
        <thead>
          <tr>
            <th>Round</th>
            <th>Program</th>
            <th>Generations</th>
            <th>Pool</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                {periods.isLoading ? "Reading the chain…" : "No usage period yet."}
              </td>
            </tr>
          )}
          {rows.map((p) => {
            const pool = pools.data?.get(p.round);
            return (
              <tr key={p.round} data-testid={`usage-row-${p.round}`}>
                <td>{p.round}</td>
                <td>{p.programId}</td>
                <td data-testid={`usage-generations-${p.round}`}>{p.generations.toLocaleString("en-US")}</td>
                <td data-testid={`usage-pool-${p.round}`}>
                  {pool !== undefined
                    ? formatTokenUnits(pool)
                    : p.phase === RoundPhase.Finalized
                      ? "not funded / …"
                      : "—"}
                </td>
                <td data-testid={`usage-status-${p.round}`}>{usagePeriodStatus(p)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {account && mine.length > 0 && (
        <>
          <h3>My usage</h3>
          <p className="muted">
            Your usage total and royalty are sealed on-chain to your account alone: decrypting them asks your wallet for
            one signature each, and nobody else — other artists, the operator, the network — can decrypt them.
          </p>
          {mine.map((p) => (
            <MyUsage key={p.round} period={p} account={account} />
          ))}
        </>
      )}
    </Card>
  );
}

function MyUsage({ period, account }: { period: UsagePeriodView; account: Address }) {
  const { runtime } = useAppContext();
  const terms = runtime.contracts.UsageTerms!;
  const distributor = runtime.contracts.RoyaltyDistributor!;
  const round = BigInt(period.round);
  const total = useReadContract({
    address: terms,
    abi: usageTermsAbi,
    functionName: "usageTotalOf",
    args: [round, account],
    query: { refetchInterval: 4_000 },
  });
  const owed = useReadContract({
    address: distributor,
    abi: royaltyDistributorAbi,
    functionName: "owedOf",
    args: [round, account],
    query: { refetchInterval: 4_000 },
  });
  const usage = useUserDecrypt();
  const royalty = useUserDecrypt();
  const sealed = total.data !== undefined && BigInt(total.data) !== 0n;
  const settled = owed.data !== undefined && BigInt(owed.data) !== 0n;
  const share = usage.state.status === "done" ? usagePerGeneration(usage.state.value, period.generations) : undefined;
  return (
    <div className="owed-round" data-testid={`my-usage-${period.round}`}>
      <h4>Round {period.round}</h4>
      <button
        type="button"
        data-testid={`my-usage-decrypt-${period.round}`}
        disabled={!sealed || usage.state.status === "working"}
        onClick={() => void usage.decrypt(total.data!, terms, account)}
      >
        {sealed ? "Decrypt my usage" : "Usage not released yet"}
      </button>{" "}
      <button
        type="button"
        data-testid={`my-royalty-decrypt-${period.round}`}
        disabled={!settled || royalty.state.status === "working"}
        onClick={() => void royalty.decrypt(owed.data!, distributor, account)}
      >
        {settled ? "Decrypt my royalty" : "Royalty not settled yet"}
      </button>
      {usage.state.status === "working" && <p className="muted">{usage.state.step}</p>}
      {usage.state.status === "done" && (
        <p className="ok" data-testid={`my-usage-clear-${period.round}`}>
          Your usage: {usageTotalText(usage.state.value)} generations' worth of attribution
          {share !== undefined ? ` (${(share * 100).toFixed(2)} % of ${period.generations} generations)` : ""}.
        </p>
      )}
      {royalty.state.status === "working" && <p className="muted">{royalty.state.step}</p>}
      {royalty.state.status === "done" && (
        <p className="ok" data-testid={`my-royalty-clear-${period.round}`}>
          Your royalty: {formatTokenUnits(royalty.state.value)} ({royalty.state.value.toString()} base units).
        </p>
      )}
      {[usage.state, royalty.state].map((s, i) =>
        s.status === "failed" ? (
          <p key={i} className="error" role="alert">
            Decryption failed: {s.message}
          </p>
        ) : null,
      )}
    </div>
  );
}
