import type { ReactNode } from "react";

export function Card({
  title,
  children,
  testId,
  tone,
}: {
  title: ReactNode;
  children: ReactNode;
  testId?: string;
  tone?: "warn";
}) {
  return (
    <section className={tone ? `card ${tone}` : "card"} data-testid={testId}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export type StepState = "done" | "ready" | "blocked" | "not-wired";

const STEP_LABELS: Record<StepState, string> = {
  done: "done",
  ready: "ready",
  blocked: "waiting",
  "not-wired": "not yet wired",
};

/** One numbered step of a flow, with a badge saying whether it can be done yet. */
export function Step({
  index,
  title,
  state,
  children,
}: {
  index: number;
  title: string;
  state: StepState;
  children: ReactNode;
}) {
  return (
    <li className={`step step-${state}`} data-testid={`step-${index}`}>
      <div className="step-head">
        <span className="step-index">{index}</span>
        <h3>{title}</h3>
        <span className={`badge badge-${state}`}>{STEP_LABELS[state]}</span>
      </div>
      <div className="step-body">{children}</div>
    </li>
  );
}

/** Explains which missing piece keeps a section from working yet. */
export function NotWired({ needs }: { needs: string }) {
  return (
    <p className="not-wired" data-testid="not-wired">
      Not yet wired: needs {needs}.
    </p>
  );
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const percent = Math.round(Math.min(1, Math.max(0, value)) * 100);
  return (
    <div
      className="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-label={label}
    >
      <div className="progress-fill" style={{ width: `${percent}%` }} />
      <span className="progress-label">
        {label} — {percent}%
      </span>
    </div>
  );
}

export function Field({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="field">
      <span className="field-label">{label}</span>
      <span className="field-value" data-testid={testId}>
        {children}
      </span>
    </div>
  );
}

/** A labelled whole-number text box (round ids, program ids, sample counts); the caller parses the text. */
export function NumberInput({
  label,
  value,
  onChange,
  size,
  testId,
}: {
  label: string;
  value: string;
  onChange: (text: string) => void;
  size: number;
  testId: string;
}) {
  return (
    <label className="picker">
      {label}{" "}
      <input
        type="text"
        inputMode="numeric"
        size={size}
        value={value}
        onChange={(e) => onChange(e.target.value.trim())}
        data-testid={testId}
      />
    </label>
  );
}
