import { InvalidInputError } from "../errors";
import { isBytes32Hex, type Hex } from "../hex";
import { encodeJsonRecord, parseJsonRecord } from "./json";

/** Why an operator left a generation's attribution vector out of its report (checked in the clear). */
export const USAGE_EXCLUSION_REASONS = Object.freeze(["wrong-length", "not-finite", "negative", "over-cap"] as const);
export type UsageExclusionReason = (typeof USAGE_EXCLUSION_REASONS)[number];

/**
 * A model operator's usage report for one period (docs/usage.md): the UsageBatch envelopes it uploaded, each by
 * keccak256 with its public generation count, the program terms the vectors were screened under, and how many
 * generations it left out, by reason. Its keccak256 is what the operator seals and reveals on-chain (the committed
 * sample count is `generations`), so every batch hash and count is pinned by the chain.
 */
export interface UsageReport {
  readonly kind: "ciphershare.usage-report";
  readonly version: 1;
  readonly round: string;
  readonly parameterSet: string;
  readonly publicBundleHash: Hex;
  readonly contributors: number;
  readonly generationCap: number;
  /** Σ of the batches' generation counts. */
  readonly generations: number;
  readonly batches: readonly { readonly hash: Hex; readonly generations: number }[];
  readonly excluded: Readonly<Record<UsageExclusionReason, number>>;
}

export function encodeUsageReport(report: UsageReport): Uint8Array {
  assertUsageReport(report);
  return encodeJsonRecord({
    kind: report.kind,
    version: report.version,
    round: report.round,
    parameterSet: report.parameterSet,
    publicBundleHash: report.publicBundleHash,
    contributors: report.contributors,
    generationCap: report.generationCap,
    generations: report.generations,
    batches: report.batches.map(({ hash, generations }) => ({ hash, generations })),
    excluded: Object.fromEntries(USAGE_EXCLUSION_REASONS.map((reason) => [reason, report.excluded[reason]])),
  });
}

export function decodeUsageReport(bytes: Uint8Array): UsageReport {
  const value = parseJsonRecord(bytes, "usage report");
  assertUsageReport(value);
  return value;
}

function assertUsageReport(value: unknown): asserts value is UsageReport {
  const fail = (problem: string): never => {
    throw new InvalidInputError(`Not a valid usage report: ${problem}.`, {
      details: JSON.stringify(value)?.slice(0, 160),
    });
  };
  const count = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;
  if (typeof value !== "object" || value === null) return fail("not an object");
  const r = value as Partial<Record<keyof UsageReport, unknown>>;
  if (r.kind !== "ciphershare.usage-report" || r.version !== 1) fail("wrong kind or version");
  if (typeof r.round !== "string" || !/^\d+$/.test(r.round)) fail("round must be a decimal string");
  if (typeof r.parameterSet !== "string") fail("parameterSet must be a string");
  if (typeof r.publicBundleHash !== "string" || !isBytes32Hex(r.publicBundleHash)) fail("bad publicBundleHash");
  if (!count(r.contributors, 1)) fail("contributors must be a positive integer");
  if (typeof r.generationCap !== "number" || !(r.generationCap > 0) || !Number.isFinite(r.generationCap)) {
    fail("generationCap must be a positive number");
  }
  if (!Array.isArray(r.batches) || r.batches.length === 0) fail("batches must be a non-empty list");
  let sum = 0;
  for (const batch of r.batches as unknown[]) {
    const b = batch as { hash?: unknown; generations?: unknown };
    if (typeof b?.hash !== "string" || !isBytes32Hex(b.hash)) fail("a batch hash is not a 32-byte hex");
    if (!count(b.generations, 1)) fail("a batch's generation count must be a positive integer");
    sum += b.generations as number;
  }
  if (r.generations !== sum) fail(`generations (${String(r.generations)}) is not the sum of the batches' (${sum})`);
  const excluded = r.excluded as Record<string, unknown> | undefined;
  if (typeof excluded !== "object" || excluded === null) return fail("excluded must be an object");
  if (Object.keys(excluded).length !== USAGE_EXCLUSION_REASONS.length) fail("excluded must name exactly the reasons");
  for (const reason of USAGE_EXCLUSION_REASONS) if (!count(excluded[reason], 0)) fail(`excluded.${reason} missing`);
}
