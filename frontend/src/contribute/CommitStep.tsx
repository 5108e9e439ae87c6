import { useState } from "react";
import type { Address, Hex } from "viem";
import { useConnection, useReadContract } from "wagmi";
import { useContractTransaction } from "../chain/useContractTransaction";
import { TransactionStatus } from "../components/TransactionStatus";
import { Field, NotWired, Step, NumberInput } from "../components/ui";
import { cipherShareErrorsAbi, roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { useAppContext } from "../context";
import { ROUND_PHASES } from "../dashboard/RoundsTable";

const HINTS = {
  AlreadyCommitted: "You already committed to this round; one contribution per round.",
  ContributorNotRegistered: "Register first (step 1).",
  RoundWrongPhase: "This round no longer takes contributions; pick an open round.",
  RoundNotFound: "There is no such round; check the round number.",
  CommitDeadlinePassed: "The round's commit deadline has passed.",
};

interface RoundView {
  programId: bigint;
  commitDeadline: bigint;
  commitCount: number;
  phase: number;
}

/** Steps 6 and 7 of Contribute: commit the uploaded envelope's hash to a round, and follow the round. */
export function CommitSteps({ index, uploaded }: { index: number; uploaded: Hex | null }) {
  const { runtime } = useAppContext();
  const hub = runtime.contracts.RoundManager;
  const connection = useConnection();
  const [roundInput, setRoundInput] = useState("1");
  const [samplesInput, setSamplesInput] = useState("");
  const tx = useContractTransaction(cipherShareErrorsAbi, HINTS);
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
  const mine = useReadContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "commitmentOf",
    args: roundId === undefined || !connection.address ? undefined : [roundId, connection.address as Address],
    query: { enabled: enabled && connection.address !== undefined, refetchInterval: 2_000 },
  });

  if (!hub) {
    return (
      <>
        <Step index={index} title="Commit the hash on-chain" state="not-wired">
          <NotWired needs="a deployment with the RoundManager address" />
        </Step>
        <Step index={index + 1} title="Round status" state="not-wired">
          <NotWired needs="a deployment with the RoundManager address" />
        </Step>
      </>
    );
  }
  const view = round.data as RoundView | undefined;
  const myCommitment = mine.data;
  const committed = myCommitment !== undefined && !/^0x0+$/.test(myCommitment);
  const commit = async () => {
    if (!uploaded || roundId === undefined || samples === undefined) return;
    await tx.run({
      address: hub,
      abi: roundManagerAbi,
      functionName: "commitContribution",
      // The store's base URL, as the CLI commits it: the coprocessor fetches `<uri>/blobs/<hash>` from it.
      args: [roundId, uploaded, samples, runtime.coprocessorUrl ?? ""],
    });
    await Promise.all([round.refetch(), mine.refetch()]);
  };

  return (
    <>
      <Step
        index={index}
        title="Commit the hash on-chain"
        state={committed && myCommitment === uploaded ? "done" : uploaded ? "ready" : "blocked"}
      >
        <NumberInput label="Round" size={6} value={roundInput} onChange={setRoundInput} testId="round-id" />
        <NumberInput
          label="Training samples behind this update (its FedAvg weight)"
          size={10}
          value={samplesInput}
          onChange={setSamplesInput}
          testId="sample-count"
        />
        <button
          type="button"
          className="primary"
          disabled={!uploaded || roundId === undefined || samples === undefined}
          onClick={() => void commit()}
        >
          Commit on-chain
        </button>
        {!uploaded && <p className="muted">Upload the encrypted update first (step 5).</p>}
        <TransactionStatus state={tx.state} />
      </Step>
      <Step index={index + 1} title="Round status" state={view ? "ready" : "blocked"}>
        {view && view.phase !== 0 ? (
          <div data-testid="round-status">
            <Field label="Round">
              {roundInput} of program {view.programId.toString()}
            </Field>
            <Field label="Phase" testId="round-phase">
              {ROUND_PHASES[view.phase] ?? view.phase}
            </Field>
            <Field label="Commit deadline">
              {new Date(Number(view.commitDeadline) * 1000).toISOString().replace(".000Z", "Z")}
            </Field>
            <Field label="Contributions committed" testId="round-commit-count">
              {view.commitCount}
            </Field>
            <Field label="Your commitment" testId="my-commitment">
              {committed ? <code>{myCommitment}</code> : "none yet"}
            </Field>
          </div>
        ) : (
          <p className="muted">Round {roundInput} does not exist (yet).</p>
        )}
      </Step>
    </>
  );
}
