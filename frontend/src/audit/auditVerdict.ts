import { parseAuditVerdict, type AuditVerdict } from "@ciphershare/protocol/audit/verdict";

export { parseAuditVerdict, type AuditCheck, type AuditVerdict } from "@ciphershare/protocol/audit/verdict";

/** The app server's auditor endpoint (`npm run app`): runs `ciphershare audit --round N --json`. */
export const AUDIT_ENDPOINT = "/api/audit";

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
