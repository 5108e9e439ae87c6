import { useState } from "react";
import { formatEther, type Address, type Hex } from "viem";
import { useConnection, useReadContract } from "wagmi";
import { useContractTransaction } from "../chain/useContractTransaction";
import { TransactionStatus } from "../components/TransactionStatus";
import { Field, NotWired, Step, NumberInput } from "../components/ui";
import { cipherShareErrorsAbi, roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { CommitmentStatus, RoundPhase } from "@ciphershare/protocol/chain/constants";
import { sealOf } from "@ciphershare/protocol/round/inputs";
import { useAppContext } from "../context";
import { phaseName } from "../dashboard/RoundsTable";
import type { EncryptedUpdate } from "../fhe/ckksClient";
import { uploadEnvelope } from "./upload";

const HINTS = {
  AlreadyCommitted: "You already committed to this round; one contribution per round.",
  ContributorNotRegistered: "Register first (step 1).",
  RoundWrongPhase: "This round is not in the phase this step needs; check the round's phase below.",
  RoundNotFound: "There is no such round; check the round number.",
  CommitDeadlinePassed: "The round's commit deadline has passed.",
  WrongCommitDeposit: "The round takes a different deposit; reload the page.",
  SealMismatch: "This is not the envelope you committed to this round.",
  RevealDeadlinePassed: "The round's reveal deadline has passed: the contribution counts as unrevealed.",
  NotACommitter: "You did not commit to this round.",
};

const ZERO_HASH = /^0x0+$/;
const utc = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");

/**
 * Steps 5 to 7 of Contribute: commit only the seal of the encrypted envelope's hash (with the round's deposit) while
 * the round is open, keep the envelope in this page, reveal its hash and upload it once the round is in its reveal
 * phase, and follow the round. A training provider's page fixes the round (chosen above) and the sample count (its
 * public row count n_k).
 */
export function CommitSteps({
  index,
  encrypted,
  fixed,
}: {
  index: number;
  encrypted: EncryptedUpdate | null;
  fixed?: { readonly round: string; readonly samples: bigint | undefined };
}) {
  const { runtime } = useAppContext();
  const hub = runtime.contracts.RoundManager;
  const connection = useConnection();
  const account = connection.address as Address | undefined;
  const [ownRoundInput, setRoundInput] = useState("1");
  const [ownSamplesInput, setSamplesInput] = useState("");
  const roundInput = fixed?.round ?? ownRoundInput;
  const samplesInput = fixed ? (fixed.samples?.toString() ?? "") : ownSamplesInput;
  const [uploaded, setUploaded] = useState<Hex | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const commitTx = useContractTransaction(cipherShareErrorsAbi, HINTS);
  const revealTx = useContractTransaction(cipherShareErrorsAbi, HINTS);
  const roundId = /^\d+$/.test(roundInput) ? BigInt(roundInput) : undefined;
  const samples = /^[1-9]\d*$/.test(samplesInput) ? BigInt(samplesInput) : undefined;
  const enabled = hub !== undefined && roundId !== undefined;
  const round = useReadContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "round",
    args: roundId === undefined ? undefined : [roundId],
    query: { enabled, refetchInterval: 2_000 },
  });
  const committed = useReadContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "commitmentIndexOf",
    args: roundId === undefined || !account ? undefined : [roundId, account],
    query: { enabled: enabled && account !== undefined, refetchInterval: 2_000, retry: false },
  });
  const mine = useReadContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "commitmentAt",
    args: roundId === undefined || committed.data === undefined ? undefined : [roundId, committed.data],
    query: { enabled: enabled && committed.data !== undefined, refetchInterval: 2_000 },
  });

  if (!hub) {
    return (
      <>
        {["Commit the sealed hash on-chain", "Reveal and upload", "Round status"].map((title, i) => (
          <Step key={title} index={index + i} title={title} state="not-wired">
            <NotWired needs="a deployment with the RoundManager address" />
          </Step>
        ))}
      </>
    );
  }
  const view = round.data;
  const phase = view === undefined ? undefined : Number(view.phase);
  // commitmentIndexOf reverts (NotACommitter) until this account committed.
  const commitment = committed.data !== undefined ? mine.data : undefined;
  const status = commitment === undefined ? undefined : Number(commitment.status);
  const revealedHash = commitment && !ZERO_HASH.test(commitment.ciphertextHash) ? commitment.ciphertextHash : undefined;
  const refresh = () => Promise.all([round.refetch(), committed.refetch(), mine.refetch()]);

  const commit = async () => {
    if (!encrypted || !account || roundId === undefined || samples === undefined || !view) return;
    await commitTx.run({
      address: hub,
      abi: roundManagerAbi,
      functionName: "commitContribution",
      args: [roundId, sealOf(encrypted.envelopeHash, account), samples],
      value: view.commitDeposit,
    });
    await refresh();
  };
  const reveal = async () => {
    if (!encrypted || roundId === undefined || !runtime.coprocessorUrl) return;
    setUploadError(null);
    if (revealedHash === undefined) {
      // The store's base URL, as the CLI reveals it: the coprocessor fetches `<uri>/blobs/<hash>` from it.
      const receipt = await revealTx.run({
        address: hub,
        abi: roundManagerAbi,
        functionName: "revealContribution",
        args: [roundId, encrypted.envelopeHash, runtime.coprocessorUrl],
      });
      if (receipt === undefined) return;
    }
    try {
      setUploaded(await uploadEnvelope(runtime.coprocessorUrl, encrypted.envelope, encrypted.envelopeHash));
    } catch (e) {
      setUploadError(e instanceof Error ? e.message : String(e));
    }
    await refresh();
  };

  const canReveal =
    encrypted !== null && phase === RoundPhase.Reveal && status !== undefined && runtime.coprocessorUrl !== null;
  const revealDone = uploaded !== null && encrypted !== null && uploaded === encrypted.envelopeHash;
  return (
    <>
      <Step
        index={index}
        title="Commit the sealed hash on-chain"
        state={status !== undefined ? "done" : encrypted ? "ready" : "blocked"}
      >
        {fixed ? (
          <p className="muted" data-testid="fixed-commit">
            Round {roundInput}; public sample count n<sub>k</sub> = {samplesInput || "…"} (your row count).
          </p>
        ) : (
          <>
            <NumberInput label="Round" size={6} value={roundInput} onChange={setRoundInput} testId="round-id" />
            <NumberInput
              label="Training samples behind this update (its FedAvg weight)"
              size={10}
              value={samplesInput}
              onChange={setSamplesInput}
              testId="sample-count"
            />
          </>
        )}
        {view && view.commitDeposit > 0n && (
          <p className="muted" data-testid="commit-deposit">
            Deposit: {formatEther(view.commitDeposit)} ETH, refunded when your contribution is included.
          </p>
        )}
        <button
          type="button"
          className="primary"
          disabled={!encrypted || !account || roundId === undefined || samples === undefined || !view}
          onClick={() => void commit()}
        >
          Commit on-chain
        </button>
        <p className="muted">
          Only a seal of your envelope's hash goes on-chain now; the envelope stays in this page until the round's
          reveal phase (keep the page open).
        </p>
        {!encrypted && (
          <p className="muted">
            Encrypt your {fixed ? "statistics" : "update"} first (step {index - 1}).
          </p>
        )}
        <TransactionStatus state={commitTx.state} />
      </Step>
      <Step index={index + 1} title="Reveal and upload" state={revealDone ? "done" : canReveal ? "ready" : "blocked"}>
        <p className="muted">
          After the commit deadline, reveal your envelope's hash and the blob store's address, then upload the envelope.
          A contribution not revealed by the reveal deadline is excluded.
        </p>
        <button type="button" className="primary" disabled={!canReveal} onClick={() => void reveal()}>
          Reveal and upload
        </button>
        {phase === RoundPhase.Open && status !== undefined && (
          <p className="muted" data-testid="waiting-for-reveal">
            Waiting for the reveal phase (after {view ? utc(view.commitDeadline) : "…"}).
          </p>
        )}
        <TransactionStatus state={revealTx.state} />
        {revealDone && (
          <p className="ok" data-testid="uploaded-ok">
            Revealed and uploaded; the store keeps it as <code>{uploaded}</code>.
          </p>
        )}
        {uploadError && (
          <p className="error" role="alert" data-testid="upload-error">
            {uploadError}
          </p>
        )}
      </Step>
      <Step index={index + 2} title="Round status" state={view ? "ready" : "blocked"}>
        {view && phase !== RoundPhase.None ? (
          <div data-testid="round-status">
            <Field label="Round">
              {roundInput} of program {view.programId.toString()}
            </Field>
            <Field label="Phase" testId="round-phase">
              {phaseName(phase ?? 0)}
            </Field>
            <Field label="Commit deadline">{utc(view.commitDeadline)}</Field>
            <Field label="Reveal deadline">{utc(view.revealDeadline)}</Field>
            <Field label="Contributions committed" testId="round-commit-count">
              {view.commitCount}
            </Field>
            <Field label="Revealed" testId="round-revealed-count">
              {view.revealedCount}
            </Field>
            <Field label="Your commitment" testId="my-commitment">
              {status === undefined
                ? "none yet"
                : status === CommitmentStatus.Sealed
                  ? "sealed (not revealed yet)"
                  : status === CommitmentStatus.Duplicate
                    ? `a duplicate of an earlier reveal: ${revealedHash}`
                    : revealedHash}
            </Field>
          </div>
        ) : (
          <p className="muted">Round {roundInput} does not exist (yet).</p>
        )}
      </Step>
    </>
  );
}
