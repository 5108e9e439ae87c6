import { describe, expect, it } from "vitest";
import { fetchAuditVerdict, parseAuditVerdict } from "../../src/audit/auditVerdict";

const verdict = {
  round: 1,
  passed: true,
  checks: [
    { name: "inputs-hash", passed: true, detail: "3 included" },
    { name: "score-release", passed: true, detail: "public: 3 φ" },
  ],
};

describe("auditor verdict", () => {
  it("reads the auditor's named checks", () => {
    expect(parseAuditVerdict(verdict)).toEqual(verdict);
  });

  it("is failed when any check failed, whatever the top-level flag says", () => {
    const bad = { ...verdict, checks: [...verdict.checks, { name: "shares-sum-to-pool", passed: false, detail: "" }] };
    expect(parseAuditVerdict(bad).passed).toBe(false);
  });

  it("refuses what is not a verdict, and passes the endpoint's error on", () => {
    expect(() => parseAuditVerdict({ error: "ciphershare audit failed" })).toThrow(/auditor failed: ciphershare/);
    expect(() => parseAuditVerdict({ round: 1 })).toThrow(/not a verdict/);
    expect(() => parseAuditVerdict({ ...verdict, checks: [{ passed: true }] })).toThrow(/check #1/);
  });

  it("says how to get an auditor when the server has none", async () => {
    const notFound = async () => new Response("no", { status: 404 });
    await expect(fetchAuditVerdict(4n, notFound)).rejects.toThrow(/npm run app.*audit --round 4/);
    const ok = async () => new Response(JSON.stringify(verdict), { status: 200 });
    await expect(fetchAuditVerdict(1n, ok)).resolves.toEqual(verdict);
  });
});
