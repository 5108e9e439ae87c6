// A usage program's terms as `UsageTerms.setTerms` takes them (contracts/interfaces/IUsageTerms.sol) and their hash:
// the artists in attribution order, the operator whose reports count, the per-generation cap, the minimum generations
// of a period and the usage/quality mix. Conversions between the on-chain integers and the off-chain numbers.
import { encodeAbiParameters, keccak256 } from "viem";
import { InvalidInputError } from "../errors";
import type { Address, Hex } from "../hex";

/** The cap is stored in millionths: 1,000,000 is a cap of 1 (normalized attributions). */
export const CAP_MICROS_PER_UNIT = 1_000_000;
/** The usage weight is stored in basis points: 10,000 is pure usage. */
export const FULL_USAGE_WEIGHT_BPS = 10_000;
const ZERO_HASH = `0x${"0".repeat(64)}` as Hex;

/** The `UsageTermsConfig` struct. */
export interface UsageTermsConfig {
  readonly operator: Address;
  readonly minGenerations: bigint;
  readonly capMicros: bigint;
  readonly usageWeightBps: number;
  /** keccak256 of the quality scores file (zero for pure usage). */
  readonly qualityScoresHash: Hex;
  /** The payees, in attribution order. */
  readonly artists: readonly Address[];
}

/** The terms as the off-chain roles use them (a superset of the coprocessor's `UsageRules`). */
export interface UsageTermsRules {
  /** Contributor count n: the artists' number. */
  readonly contributors: number;
  /** Per-generation cap (Σᵢ vᵢ ≤ cap). */
  readonly generationCap: number;
  readonly minGenerations: number;
  /** Weight of usage in [0, 1]. */
  readonly usageWeight: number;
}

const TERMS_TUPLE = [
  {
    type: "tuple",
    components: [
      { name: "operator", type: "address" },
      { name: "minGenerations", type: "uint64" },
      { name: "capMicros", type: "uint64" },
      { name: "usageWeightBps", type: "uint16" },
      { name: "qualityScoresHash", type: "bytes32" },
      { name: "artists", type: "address[]" },
    ],
  },
] as const;

/** keccak256(abi.encode(terms)): what `UsageTerms.termsHashOf` returns. */
export function usageTermsHash(terms: UsageTermsConfig): Hex {
  return keccak256(encodeAbiParameters(TERMS_TUPLE, [{ ...terms, artists: [...terms.artists] }]));
}

/** The struct for `setTerms` from off-chain numbers; the cap and weight must be exact in millionths / basis points. */
export function usageTermsConfig(args: {
  readonly operator: Address;
  readonly artists: readonly Address[];
  readonly cap?: number;
  readonly minGenerations?: number;
  readonly usageWeight?: number;
  readonly qualityScoresHash?: Hex;
}): UsageTermsConfig {
  const cap = args.cap ?? 1;
  const capMicros = cap * CAP_MICROS_PER_UNIT;
  if (!Number.isSafeInteger(capMicros) || capMicros <= 0) {
    throw new InvalidInputError(`The per-generation cap ${cap} is not a positive multiple of 1e-6.`);
  }
  const weight = args.usageWeight ?? 1;
  const bps = Math.round(weight * FULL_USAGE_WEIGHT_BPS);
  if (!(weight >= 0 && weight <= 1) || Math.abs(bps - weight * FULL_USAGE_WEIGHT_BPS) > 1e-9) {
    throw new InvalidInputError(`The usage weight ${weight} is not in [0, 1] in steps of 1e-4.`);
  }
  const minGenerations = args.minGenerations ?? 1;
  if (!Number.isSafeInteger(minGenerations) || minGenerations < 0) {
    throw new InvalidInputError(`The minimum generations ${minGenerations} is not a non-negative integer.`);
  }
  return {
    operator: args.operator,
    minGenerations: BigInt(minGenerations),
    capMicros: BigInt(capMicros),
    usageWeightBps: bps,
    qualityScoresHash: args.qualityScoresHash ?? ZERO_HASH,
    artists: args.artists,
  };
}

/** The off-chain rules of on-chain terms. */
export function usageRulesOf(terms: UsageTermsConfig): UsageTermsRules {
  return {
    contributors: terms.artists.length,
    generationCap: Number(terms.capMicros) / CAP_MICROS_PER_UNIT,
    minGenerations: Math.max(1, Number(terms.minGenerations)),
    usageWeight: terms.usageWeightBps / FULL_USAGE_WEIGHT_BPS,
  };
}

/**
 * Scale of a sealed usage total (`UsageTerms.USAGE_TOTAL_SCALE`): the euint64 an artist decrypts holds its period's
 * total in millionths of a generation's attribution, like the cap.
 */
export const USAGE_TOTAL_SCALE = 1_000_000;

/**
 * A released (flooded) usage total as the euint64 the custodian seals: round(total × 10^6), and 0 for a total at or
 * below `resolution` (flooding noise, which can be slightly negative, is not usage; the royalties count it as 0 too).
 */
export function usageTotalUnits(total: number, resolution = 0): bigint {
  if (!Number.isFinite(total)) throw new InvalidInputError(`The usage total ${total} is not a finite number.`);
  if (total <= resolution) return 0n;
  const units = BigInt(Math.round(total * USAGE_TOTAL_SCALE));
  if (units >= 1n << 64n) throw new InvalidInputError(`The usage total ${total} does not fit a euint64 in millionths.`);
  return units;
}

/** A sealed usage total's decrypted euint64 as a number of generations' worth of attribution. */
export function usageTotalFromUnits(units: bigint): number {
  return Number(units) / USAGE_TOTAL_SCALE;
}
