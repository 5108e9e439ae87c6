import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import type { GaloisKeys } from "@ciphershare/protocol/ckks/seal";
import { CipherShareError, InvalidInputError } from "@ciphershare/protocol/errors";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import {
  freshVariance,
  keySwitchVariance,
  noiseParameters,
  roundingVariance,
  WHITE_NOISE_TAIL,
  type NoiseBound,
  type NoiseParameters,
} from "../threshold/noise-bound";
import type { OutputRelease } from "../threshold/release-bounds";
import { aggregateUsage, usageValueExponent } from "./aggregate";
import type { ParsedUsageBatch } from "./batch";
import { foldSteps, usageLayout } from "./layout";
import type { UsageRules } from "./rules";

/**
 * Error bound of the usage totals (aggregate.ts), in ring units: K fresh ciphertexts summed (variance K·v_fresh),
 * F folds e ← e + σ(e) + ks (standard deviations add linearly: an automorphism of e is not independent of e),
 * then the product with the constant 2^(Δ_bits−e) and the rescale by q_L, which adds rounding. The released
 * ciphertext's scale is Δ·Δ/q_L. White noise: ‖e‖₂ ≈ √N·(per-coefficient std), times WHITE_NOISE_TAIL.
 */
export function usageNoiseBound(
  p: NoiseParameters,
  shape: { ciphertexts: number; folds: number; valueExponent: number },
): NoiseBound {
  const { ciphertexts, folds, valueExponent } = shape;
  if (!Number.isInteger(ciphertexts) || ciphertexts < 1 || !Number.isInteger(folds) || folds < 0) {
    throw new InvalidInputError("The usage noise bound needs at least one ciphertext and a fold count.", {
      details: `ciphertexts ${ciphertexts}, folds ${folds}`,
    });
  }
  const qL = p.dataPrimes[p.dataPrimes.length - 1];
  const topLevel = p.dataPrimes.length;
  const summed = Math.sqrt(ciphertexts * freshVariance(p));
  const folded = 2 ** folds * summed + (2 ** folds - 1) * Math.sqrt(keySwitchVariance(p, topLevel));
  const constant = p.scale * 2 ** -valueExponent;
  const perCoefficient = (constant / qL) * folded + Math.sqrt(roundingVariance(p));
  const expected = Math.sqrt(p.polyModulusDegree) * perCoefficient;
  return {
    computation: "usage",
    l2: WHITE_NOISE_TAIL * expected,
    expectedL2: expected,
    scale: (p.scale * p.scale) / qL,
  };
}

/**
 * What the custodian needs to release a period's totals, from public facts only: the included batches' committed
 * generation counts and ciphertext counts, and the program's cap. Every slot holds a total / 2^e ≤ generations ×
 * cap / 2^e ≤ ½; a larger value means an input broke the cap (or a partial decryption is forged) and is refused.
 */
export function usageRelease(
  ctx: CkksContext,
  rules: UsageRules,
  included: { generations: number; ciphertexts: number },
): OutputRelease {
  const layout = usageLayout(rules.contributors, ctx.slotCount);
  const valueExponent = usageValueExponent(included.generations, rules.generationCap);
  return {
    errorBound: usageNoiseBound(noiseParameters(ctx), {
      ciphertexts: included.ciphertexts,
      folds: foldSteps(layout).length,
      valueExponent,
    }),
    maxAbs: (included.generations * rules.generationCap) / 2 ** valueExponent,
  };
}

/** The custodian declined to release a period's totals. */
export class UsageReleaseRefusedError extends CipherShareError {
  override name = "UsageReleaseRefusedError";
  constructor(
    readonly reason: "too-few-generations" | "not-the-recomputed-totals",
    shortMessage: string,
    options: { details?: string } = {},
  ) {
    super(shortMessage, options);
  }
}

/**
 * The custodian's checks before it decrypts a period's totals, on top of the output policy (only a committed
 * output, never an input): the period holds at least `minimumGenerations` generations (totals of one generation
 * are that generation's attribution), and the committed totals are exactly what the included batches aggregate to
 * (it recomputes them: a coprocessor that committed the sum of one batch, or a difference of batches, as "the
 * totals" is caught here). Returns the recomputed envelope's hash.
 */
export async function assertReleasableTotals(
  ctx: CkksContext,
  galoisKeys: GaloisKeys,
  input: {
    rules: UsageRules;
    publicBundleHash: Hex;
    batches: readonly ParsedUsageBatch[];
    committedTotals: Hex;
    minimumGenerations: number;
  },
): Promise<Hex> {
  const generations = input.batches.reduce((sum, batch) => sum + batch.generations, 0);
  if (generations < input.minimumGenerations) {
    throw new UsageReleaseRefusedError("too-few-generations", "Too few generations in the period to release totals.", {
      details: `${generations} < ${input.minimumGenerations}`,
    });
  }
  const { envelope } = await aggregateUsage(ctx, galoisKeys, input.batches, {
    publicBundleHash: input.publicBundleHash,
    rules: input.rules,
  });
  const recomputed = await envelopeCommitment(envelope);
  if (!sameHash(recomputed, input.committedTotals)) {
    throw new UsageReleaseRefusedError(
      "not-the-recomputed-totals",
      "The committed totals are not the aggregate of the included batches.",
      { details: `committed ${input.committedTotals}, recomputed ${recomputed}` },
    );
  }
  return recomputed;
}
