// A training program's terms (docs/training.md): the canonical JSON blob whose keccak256 the program records on-chain
// as `termsHash`. Providers read it before computing their statistics; the coprocessor and the custodian train under
// it; anyone can check it against the chain.
import { keccak256 } from "../hashing/keccak";
import { InvalidInputError } from "../errors";
import { isBytes32Hex, type Hex } from "../hex";
import { encodeJsonRecord, parseJsonRecord } from "./json";

export interface TrainingTerms {
  readonly kind: "ciphershare.training-terms";
  readonly version: 1;
  /** d: features per row. */
  readonly features: number;
  /** c: outputs per row (one-hot classes for a classifier). */
  readonly outputs: number;
  /** λ of ridge regression: the model is (A + λnI)⁻¹B. */
  readonly lambda: number;
  /** The ε every provider's statistics must be noised with ((ε, δ)-DP, Gaussian mechanism), or null for none. */
  readonly dpEpsilon: number | null;
  /** How providers are valued and paid from the buyer's payment; absent: the round values nobody (no payout). */
  readonly valuation?: TrainingValuationTerms;
}

/**
 * The valuation of a training round (docs/training.md, *Valuation*): each provider's local ridge model is valued by
 * exact Shapley against the validation set, the `CSD1` dataset blob (d features, c classes) whose keccak256 is
 * `validation`; `modelNormBound` is the declared C with ‖W_k‖_F ≤ C that the flooding of φ is sized for.
 */
export interface TrainingValuationTerms {
  readonly validation: Hex;
  readonly modelNormBound: number;
}

/** Canonical bytes: the record's fields in this fixed order (what `termsHash` is the keccak256 of). */
export function encodeTrainingTerms(terms: Omit<TrainingTerms, "kind" | "version">): Uint8Array {
  const record: TrainingTerms = {
    kind: "ciphershare.training-terms",
    version: 1,
    features: terms.features,
    outputs: terms.outputs,
    lambda: terms.lambda,
    dpEpsilon: terms.dpEpsilon,
    ...(terms.valuation === undefined
      ? {}
      : { valuation: { validation: terms.valuation.validation, modelNormBound: terms.valuation.modelNormBound } }),
  };
  assertTrainingTerms(record);
  return encodeJsonRecord(record);
}

/** keccak256 of the canonical terms blob. */
export async function trainingTermsHash(terms: Omit<TrainingTerms, "kind" | "version">): Promise<Hex> {
  return keccak256(encodeTrainingTerms(terms));
}

/** Parses a terms blob and checks every field; the bytes must be canonical (re-encoding gives them back). */
export function decodeTrainingTerms(bytes: Uint8Array): TrainingTerms {
  const value = parseJsonRecord(bytes, "training terms") as TrainingTerms;
  assertTrainingTerms(value);
  const canonical = encodeTrainingTerms(value);
  if (canonical.length !== bytes.length || canonical.some((b, i) => b !== bytes[i])) {
    throw new InvalidInputError("The training terms are not in canonical form.", {
      details: new TextDecoder().decode(bytes).slice(0, 160),
    });
  }
  return value;
}

function assertTrainingTerms(value: TrainingTerms): void {
  const fail = (problem: string): never => {
    throw new InvalidInputError(`Not valid training terms: ${problem}.`, {
      details: JSON.stringify(value)?.slice(0, 160),
    });
  };
  if (value?.kind !== "ciphershare.training-terms" || value.version !== 1) fail("wrong kind or version");
  if (!Number.isSafeInteger(value.features) || value.features < 1) fail(`features ${value.features}`);
  if (!Number.isSafeInteger(value.outputs) || value.outputs < 1) fail(`outputs ${value.outputs}`);
  if (typeof value.lambda !== "number" || !Number.isFinite(value.lambda) || value.lambda <= 0) {
    fail(`lambda ${value.lambda}`);
  }
  if (
    value.dpEpsilon !== null &&
    (typeof value.dpEpsilon !== "number" || !Number.isFinite(value.dpEpsilon) || value.dpEpsilon <= 0)
  ) {
    fail(`dpEpsilon ${value.dpEpsilon}`);
  }
  const valuation = value.valuation;
  if (valuation !== undefined) {
    if (typeof valuation?.validation !== "string" || !isBytes32Hex(valuation.validation)) {
      fail(`validation ${String(valuation?.validation)}`);
    }
    const bound = valuation.modelNormBound;
    if (typeof bound !== "number" || !Number.isFinite(bound) || bound <= 0) fail(`modelNormBound ${bound}`);
  }
}
