import { useEffect, useState } from "react";
import type { Address, Hex } from "viem";
import { useReadContract } from "wagmi";
import { AuditVerdictCard } from "../audit/AuditVerdictCard";
import { Card, NotWired, NumberInput } from "../components/ui";
import { checkBlob, type BlobCheck } from "../contribute/keyBundle";
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { CommitmentStatus, EXCLUSION_REASON_NAMES } from "@ciphershare/protocol/chain/constants";
import { hexToBytes } from "@ciphershare/protocol/hex";
import { useAppContext } from "../context";
import { phaseName } from "../dashboard/RoundsTable";

interface Commitment {
  contributor: Address;
  sampleCount: bigint;
  status: number;
  ciphertextHash: Hex;
}

const STATUSES: Record<number, string> = {
  [CommitmentStatus.Sealed]: "sealed",
  [CommitmentStatus.Revealed]: "revealed",
  [CommitmentStatus.Duplicate]: "duplicate",
};

/** The most commitments read at once; a round larger than this pages through them. */
const PAGE_SIZE = 200n;

const VERDICTS: Record<BlobCheck["status"], string> = {
  match: "blob matches",
  missing: "blob missing",
  restricted: "blob restricted to the round's computing parties",
  mismatch: "blob does not match",
};

export function AuditPage() {
  const { runtime } = useAppContext();
  const hub = runtime.contracts.RoundManager;
  const [roundInput, setRoundInput] = useState("1");
  const roundId = /^\d+$/.test(roundInput) ? BigInt(roundInput) : undefined;
  const round = useReadContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "round",
    args: roundId === undefined ? undefined : [roundId],
    query: { enabled: hub !== undefined && roundId !== undefined },
  });
  const list = useReadContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "commitments",
    args: roundId === undefined ? undefined : [roundId, 0n, PAGE_SIZE],
    query: { enabled: hub !== undefined && roundId !== undefined },
  });
  const commitments: readonly Commitment[] = list.data ?? [];
  const checks = useBlobChecks(
    runtime.coprocessorUrl,
    commitments.filter((c) => c.status !== CommitmentStatus.Sealed),
  );
  const phase = round.data?.phase;
  const publication = round.data?.publication ?? 0;
  // The standing publication's verdicts, one reason byte per commitment (none before the first publication).
  const reasons = useReadContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "exclusionReasons",
    args: roundId === undefined ? undefined : [roundId, BigInt(publication)],
    query: { enabled: hub !== undefined && roundId !== undefined && publication > 0 },
  });
  const verdicts = publication > 0 && reasons.data !== undefined ? hexToBytes(reasons.data) : undefined;

  return (
    <div className="page" data-testid="page-audit">
      <h1>Audit</h1>
      <p className="lead">
        Pick a round to see every on-chain commitment, whether the blobs behind it hash to what was committed, and the
        auditor&apos;s verdict.
      </p>
      {!hub ? (
        <Card title="Round">
          <NotWired needs="a deployment with the RoundManager address" />
        </Card>
      ) : (
        <>
          <Card title="Round">
            <NumberInput label="Round" size={6} value={roundInput} onChange={setRoundInput} testId="audit-round" />
            <p className="muted">
              {phase === undefined || phase === 0
                ? "No such round."
                : `Phase: ${phaseName(phase, round.data?.cancelReason)}${publication > 0 ? `, publication ${publication}` : ""}.`}
            </p>
          </Card>
          <Card title="Commitments">
            <table className="table">
              <thead>
                <tr>
                  <th>Contributor</th>
                  <th>Samples</th>
                  <th>Status</th>
                  <th>Revealed hash</th>
                  <th>Blob</th>
                  <th>Verdict</th>
                </tr>
              </thead>
              <tbody>
                {commitments.length === 0 && (
                  <tr>
                    <td colSpan={6} className="muted">
                      No commitment in this round.
                    </td>
                  </tr>
                )}
                {commitments.map((c, index) => {
                  const sealed = c.status === CommitmentStatus.Sealed;
                  const check = sealed ? undefined : checks[c.ciphertextHash];
                  const reason = verdicts?.[index];
                  return (
                    <tr key={c.contributor} data-testid="audit-commitment">
                      <td>
                        <code>{c.contributor}</code>
                      </td>
                      <td>{c.sampleCount.toString()}</td>
                      <td data-testid="audit-status">{STATUSES[c.status] ?? c.status}</td>
                      <td>{sealed ? <span className="muted">not revealed</span> : <code>{c.ciphertextHash}</code>}</td>
                      <td
                        className={check?.status === "match" ? "ok" : check ? "error" : "muted"}
                        data-testid="audit-blob"
                      >
                        {sealed
                          ? "–"
                          : !runtime.coprocessorUrl
                            ? "no coprocessor configured"
                            : check
                              ? VERDICTS[check.status]
                              : "checking…"}
                      </td>
                      <td
                        data-testid="audit-publication-verdict"
                        className={reason === undefined || reason === 0 ? "" : "error"}
                      >
                        {reason === undefined
                          ? "–"
                          : reason === 0
                            ? "included"
                            : `excluded: ${EXCLUSION_REASON_NAMES[reason]}`}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </Card>
        </>
      )}
      <AuditVerdictCard round={roundId} />
    </div>
  );
}

/** Fetches and hashes every committed blob once; results keyed by committed hash. */
function useBlobChecks(coprocessorUrl: string | null, commitments: readonly Commitment[]) {
  const [checks, setChecks] = useState<Record<Hex, BlobCheck>>({});
  const key = commitments.map((c) => c.ciphertextHash).join(",");
  useEffect(() => {
    if (!coprocessorUrl || key === "") return;
    let cancelled = false;
    void Promise.all(
      key.split(",").map(async (hash) => {
        const result = await checkBlob(coprocessorUrl, hash as Hex).catch(() => undefined);
        return [hash, result] as const;
      }),
    ).then((results) => {
      if (cancelled) return;
      const next: Record<Hex, BlobCheck> = {};
      for (const [hash, result] of results) if (result) next[hash as Hex] = result;
      setChecks(next);
    });
    return () => {
      cancelled = true;
    };
  }, [coprocessorUrl, key]);
  return checks;
}
