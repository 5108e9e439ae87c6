/** One named check of the auditor (`coprocessor/src/roles/auditor.ts`). */
export interface AuditCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

export interface AuditVerdict {
  readonly round: number;
  readonly passed: boolean;
  readonly checks: readonly AuditCheck[];
}

/** The app server's auditor endpoint (`npm run app`): runs `ciphershare audit --round N --json`. */
export const AUDIT_ENDPOINT = "/api/audit";

/** Validates the auditor's JSON verdict; anything else is an error naming what was wrong. */
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
    return { name: check.name, passed: check.passed, detail: typeof check.detail === "string" ? check.detail : "" };
  });
  return { round: value.round, passed: value.passed && checks.every((c) => c.passed), checks };
}

/** Asks the app server to audit a round (it re-runs FedAvg and Shapley: tens of seconds). */
export async function fetchAuditVerdict(
  round: bigint,
  fetchFn: typeof fetch = (...a) => fetch(...a),
): Promise<AuditVerdict> {
  const response = await fetchFn(`${AUDIT_ENDPOINT}?round=${round}`);
  if (response.status === 404) {
    throw new Error(
      `This server has no auditor endpoint. Start the app with \`npm run app\`, or run \`npx ciphershare audit --round ${round} --json\`.`,
    );
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new Error(`The auditor endpoint answered HTTP ${response.status} without JSON.`);
  }
  return parseAuditVerdict(json);
}
