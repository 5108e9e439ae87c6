import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { fedAvgWeights } from "../fedavg/weights";
import type { CoefficientMap } from "../shapley/coefficients";
import { consistencyNoiseBound, type ProjectionChallenge } from "../shapley/encrypted/consistency";
import { matvecPlan, requiredGaloisSteps } from "../shapley/encrypted/layout";
import { projectionKeySwitches } from "../shapley/encrypted/rotations";
import type { ValidationKernel } from "../shapley/gram";
import { fedAvgNoiseBound, noiseParameters, shapleyNoiseBound, type NoiseBound } from "./noise-bound";

/**
 * What decrypting one output needs besides the key: the bound its flooding is sized from, and the range
 * its values must fall in (checked after combining, before anything is released). Both come from public
 * data of the round — sample counts, the validation kernel, the declared model norm bound — never from the
 * encrypted values.
 */
export interface OutputRelease {
  readonly errorBound: NoiseBound;
  /** |value| above this (in the ciphertext's units) means the inputs broke their bound or a share is forged. */
  readonly maxAbs: number;
}

/**
 * The FedAvg aggregate of clients with these sample counts, each model within ‖w‖_F ≤ C: every entry of
 * every model, hence of their average, is at most C in absolute value.
 */
export function aggregateRelease(
  ctx: CkksContext,
  sampleCounts: readonly number[],
  modelNormBound: number,
): OutputRelease {
  return {
    errorBound: fedAvgNoiseBound(noiseParameters(ctx), fedAvgWeights(sampleCounts)),
    maxAbs: modelNormBound,
  };
}

/**
 * Enc(φ) of the Gram pipeline. Utilities are −‖X·w_S − Y‖²/(n_v·c) ≤ 0 with ‖X·w_S‖ ≤ ‖R‖_F·C for any
 * coalition model (a convex combination), so every φ_k, a weighted average of utility differences, is at
 * most max(|U(∅)|, (‖Y‖ + ‖R‖_F·C)²/(n_v·c)) in absolute value; the ciphertext holds φ / outputScale.
 * `galoisSteps`: the steps of the bundle's Galois keys (public); default, a key for every projection step (the
 * "computed" profile). With fewer keys the projection's rotations are composed and the bound grows accordingly.
 */
export function scoresRelease(
  ctx: CkksContext,
  kernel: ValidationKernel,
  map: CoefficientMap,
  modelNormBound: number,
  galoisSteps?: readonly number[],
): OutputRelease {
  const plan = matvecPlan(kernel.r, kernel.xty.cols, ctx.slotCount);
  // Any client may be projected by the workers (no or a failed submission): count its rotations with the bundle's keys.
  const errorBound = shapleyNoiseBound(noiseParameters(ctx), {
    r: kernel.r,
    xty: kernel.xty,
    map,
    projectionKeySwitches: projectionKeySwitches(plan, galoisSteps ?? requiredGaloisSteps(plan)),
    modelNormBound,
  });
  let rFrobenius2 = 0;
  for (const v of kernel.r.data) rFrobenius2 += v * v;
  const utilityBound =
    (Math.sqrt(kernel.yNormSquared) + Math.sqrt(rFrobenius2) * modelNormBound) ** 2 / kernel.normalizer;
  return { errorBound, maxAbs: Math.max(Math.abs(kernel.utilityEmpty), utilityBound) / map.outputScale };
}

/**
 * A consistency residual of submitted projections (`consistency.ts`): one number whose honest value is CKKS error. A
 * dishonest submission may make it arbitrarily large, and that is the information the check needs, so no range is
 * enforced (a value outside any range fails the check anyway).
 */
export function consistencyRelease(ctx: CkksContext, challenges: readonly ProjectionChallenge[]): OutputRelease {
  return { errorBound: consistencyNoiseBound(noiseParameters(ctx), challenges), maxAbs: Number.MAX_VALUE };
}
