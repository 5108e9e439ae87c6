import { InvalidInputError } from "../errors";
import { isBytes32Hex, type Hex } from "../hex";
import { encodeJsonRecord, parseJsonRecord } from "./json";

/**
 * What the coprocessor publishes for a usage period (docs/usage.md), as the round's second output hash: the
 * included batches (hash and count) the totals were summed from, every excluded report or batch with its reason,
 * and the totals envelope's hash. Anyone holding the batches recomputes the totals and compares.
 */
export interface UsagePeriodRecord {
  readonly kind: "ciphershare.usage-period";
  readonly version: 1;
  readonly round: string;
  readonly contributors: number;
  readonly generationCap: number;
  /** Σ of the included batches' generation counts. */
  readonly generations: number;
  /** keccak256 of the totals envelope (the round's published aggregate). */
  readonly totals: Hex;
  readonly batches: readonly { readonly hash: Hex; readonly generations: number }[];
  readonly excludedReports: readonly { readonly index: number; readonly reason: string; readonly details: string }[];
  readonly excludedBatches: readonly { readonly hash: Hex; readonly reason: string; readonly details: string }[];
}

export function encodeUsagePeriodRecord(record: UsagePeriodRecord): Uint8Array {
  return encodeJsonRecord(record);
}

export function decodeUsagePeriodRecord(bytes: Uint8Array): UsagePeriodRecord {
  const value = parseJsonRecord(bytes, "usage period record") as Partial<UsagePeriodRecord>;
  const fail = (problem: string): never => {
    throw new InvalidInputError(`Not a usage period record: ${problem}.`, {
      details: JSON.stringify(value)?.slice(0, 160),
    });
  };
  if (value?.kind !== "ciphershare.usage-period" || value.version !== 1) fail("wrong kind or version");
  if (typeof value.totals !== "string" || !isBytes32Hex(value.totals)) fail("bad totals hash");
  if (!Array.isArray(value.batches) || !Array.isArray(value.excludedReports) || !Array.isArray(value.excludedBatches)) {
    fail("batches and exclusions must be lists");
  }
  const sum = value.batches!.reduce((s, b) => s + b.generations, 0);
  if (value.generations !== sum) fail(`generations ${String(value.generations)} ≠ Σ batches ${sum}`);
  return value as UsagePeriodRecord;
}

/** What the custodian releases for a usage period; anchored on-chain by `anchorRelease`. */
export interface UsageReleaseRecord {
  readonly kind: "ciphershare.usage-release";
  readonly version: 1;
  readonly round: string;
  /** keccak256 of the period record and of the totals envelope the custodian decrypted. */
  readonly period: Hex;
  readonly totals: Hex;
  readonly generations: number;
  /** Σ of the released (flooded) totals; the per-contributor totals stay private (docs/usage.md). */
  readonly totalUsage: number;
  readonly floodingSigma: number;
}

export function decodeUsageReleaseRecord(bytes: Uint8Array): UsageReleaseRecord {
  const value = parseJsonRecord(bytes, "usage release record") as Partial<UsageReleaseRecord>;
  if (value?.kind !== "ciphershare.usage-release" || value.version !== 1 || typeof value.totals !== "string") {
    throw new InvalidInputError("Not a usage release record.", { details: JSON.stringify(value)?.slice(0, 160) });
  }
  return value as UsageReleaseRecord;
}
