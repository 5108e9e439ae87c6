// The auditor's verdict on a round (`ciphershare audit --round N --json`, the app's `/api/audit`): every check
// named, passed only when all passed. The CLI writes it; the web app reads it.

/** One named check of the auditor (coprocessor/src/roles/auditor.ts lists them). */
export interface AuditCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
  /**
   * The auditor could not make this check: it needs the round's input ciphertexts, which only the program's
   * computing parties and named input auditors may read. Not counted as failed (`passed` is true); the detail says so.
   */
  readonly restricted?: boolean;
}

export interface AuditVerdict {
  readonly round: number;
  readonly passed: boolean;
  readonly checks: readonly AuditCheck[];
}

/** Validates an auditor's JSON verdict; anything else is an error naming what was wrong. */
export function parseAuditVerdict(json: unknown): AuditVerdict {
  const value = json as Partial<AuditVerdict> & { error?: unknown };
  if (typeof value !== "object" || value === null) throw new Error("The auditor answered with no verdict.");
  if (typeof value.error === "string") throw new Error(`The auditor failed: ${value.error}`);
  if (typeof value.round !== "number" || typeof value.passed !== "boolean" || !Array.isArray(value.checks)) {
    throw new Error(`The auditor's answer is not a verdict: ${JSON.stringify(json).slice(0, 120)}`);
  }
  const checks = value.checks.map((check: Partial<AuditCheck>, i) => {
    if (typeof check?.name !== "string" || typeof check.passed !== "boolean") {
      throw new Error(`The auditor's check #${i + 1} has no name or result.`);
    }
    return {
      name: check.name,
      passed: check.passed,
      detail: typeof check.detail === "string" ? check.detail : "",
      ...(check.restricted === true ? { restricted: true } : {}),
    };
  });
  return { round: value.round, passed: value.passed && checks.every((c) => c.passed), checks };
}
