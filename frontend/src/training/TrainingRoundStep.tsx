import { Field, NumberInput, Step } from "../components/ui";
import { phaseName } from "../dashboard/RoundsTable";
import type { TrainingRound } from "./useTrainingRound";

/** The round, its training program and the program's verified terms (d, c, λ, ε). */
export function TrainingRoundStep({
  index,
  roundInput,
  onRoundInput,
  state,
}: {
  index: number;
  roundInput: string;
  onRoundInput: (text: string) => void;
  state: { round: TrainingRound | null; error: string | null; loading: boolean };
}) {
  const { round, error, loading } = state;
  return (
    <Step index={index} title="The round and its training program's terms" state={round ? "done" : "ready"}>
      <NumberInput label="Round" size={6} value={roundInput} onChange={onRoundInput} testId="training-round-id" />
      {loading && <p className="muted">Reading the round, its program and the program's terms…</p>}
      {error && (
        <p className="error" role="alert" data-testid="training-round-error">
          {error}
        </p>
      )}
      {round && (
        <div data-testid="training-terms">
          <Field label="Program">{round.programId.toString()} (training)</Field>
          <Field label="Phase" testId="training-round-phase">
            {phaseName(round.phase)}
          </Field>
          <Field label="Features d × outputs c" testId="training-shape">
            {round.terms.features} × {round.terms.outputs}
          </Field>
          <Field label="Ridge λ">{round.terms.lambda}</Field>
          <Field label="DP required by the terms">
            {round.terms.dpEpsilon === null ? "none" : `ε = ${round.terms.dpEpsilon}`}
          </Field>
          <p className="ok" data-testid="training-terms-ok">
            The terms match the program&apos;s on-chain termsHash.
          </p>
        </div>
      )}
    </Step>
  );
}
