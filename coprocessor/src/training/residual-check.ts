// The residual check as a round step (docs/training.md, *Valuation*): the public challenge (r, s) of a round, the
// output that carries Enc(ρ_k) of every included provider, the error bound its flooding is sized from, and the
// tolerance above which a provider's local model is flagged as not its statistics' ridge model. Every number here
// follows from public facts (d, c, λ, n_k, the terms' model norm bound C, the parameter set), so the auditor
// recomputes the tolerance and checks the flags against the released ρ.
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { buildEnvelope, EnvelopeKind } from "@ciphershare/protocol/ckks/envelope";
import type { Ciphertext } from "@ciphershare/protocol/ckks/seal";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { hexToBytes, type Hex } from "@ciphershare/protocol/hex";
import {
  FEW_VARIABLES_TAIL,
  freshVariance,
  keySwitchVariance,
  noiseParameters,
  roundingVariance,
  type NoiseBound,
  type NoiseParameters,
} from "../threshold/noise-bound";
import type { OutputRelease } from "../threshold/release-bounds";
import { systemLayout } from "./keys";
import type { TrainingShape } from "@ciphershare/protocol/training/statistics";

/** The name of the residual envelope's one tensor: [providers, slots], Enc(ρ_k) in every slot of chunk k. */
export const RESIDUAL_TENSOR = "training-residual";

/**
 * R: the row norm ‖x‖ the check's public bounds assume (features of order one, as the valuation's C does for
 * models). It sizes only the data-dependent part of the error bound (the ciphertext × ciphertext product) and the
 * float64 solve term of the tolerance; both stay orders of magnitude below the ρ of a model that is not the
 * provider's (docs/training.md).
 */
export const RESIDUAL_ROW_NORM_BOUND = 16;

/** Tail of the released flooding noise the tolerance allows (P < 2^-48 for a Gaussian). */
const FLOODING_TAIL = 8;

/**
 * The 32-byte challenge seed of a round: keccak256("ciphershare.training-residual" ‖ inputs hash ‖ hash of the block
 * that closed the round). The inputs hash alone could be ground by the last committer; the closing block's hash is
 * unknown when the last upload is fixed. Anyone re-derives it from the chain.
 */
export async function residualChallengeSeed(inputs: Hex, closingBlockHash: Hex): Promise<Hex> {
  return keccak256([
    new TextEncoder().encode("ciphershare.training-residual"),
    hexToBytes(inputs, 32),
    hexToBytes(closingBlockHash, 32),
  ]);
}

/** The `residualChallenge` seed number of a 32-byte seed: its first 6 bytes (a safe integer). */
export function residualSeedNumber(seed: Hex): number {
  return Number(BigInt(seed.slice(0, 14)));
}

/** Enc(ρ_k) of each included provider (in `included` order) as one Aggregate envelope under the program key. */
export async function residualEnvelope(
  ctx: CkksContext,
  publicBundleHash: Hex,
  residuals: readonly Ciphertext[],
): Promise<Uint8Array> {
  if (residuals.length === 0) throw new InvalidInputError("A residual envelope needs at least one provider.");
  const first = residuals[0];
  return buildEnvelope(
    {
      kind: EnvelopeKind.Aggregate,
      parameterSet: ctx.parameterSet,
      publicBundleHash,
      scale: first.scale(),
      valueExponent: 0,
      coeffModulusSize: first.coeffModulusSize(),
      ciphertextSize: 2,
      tensors: [{ name: RESIDUAL_TENSOR, shape: [residuals.length, ctx.slotCount] }],
    },
    residuals.map((r) => ctx.saveCiphertext(r)),
  );
}

/**
 * ρ_k from the custodian's release of a residual envelope: the mean of chunk k's slots (each holds ρ_k plus its own
 * CKKS error and flooding), one number per provider. With `maxSpread`, a chunk whose slots stray further than that
 * from their mean is refused: it is not an Enc(ρ_k) (a coprocessor wrapping other ciphertexts as the envelope).
 */
export function residualsFromRelease(
  output: { readonly tensors: readonly TensorSpec[]; readonly values: ArrayLike<number>; readonly valueScale: number },
  providers: number,
  maxSpread = Number.POSITIVE_INFINITY,
): number[] {
  const [tensor, ...rest] = output.tensors;
  if (tensor?.name !== RESIDUAL_TENSOR || rest.length > 0 || tensor.shape[0] !== providers) {
    throw new InvalidInputError("The release is not a residual envelope of the round's providers.", {
      details: `${output.tensors.map((t) => `${t.name} [${t.shape.join(", ")}]`).join(", ")}; ${providers} providers`,
    });
  }
  const slots = tensor.shape[1];
  return Array.from({ length: providers }, (_, k) => {
    let sum = 0;
    for (let x = 0; x < slots; x++) sum += output.values[k * slots + x];
    const mean = sum / slots;
    for (let x = 0; x < slots; x++) {
      const spread = Math.abs(output.values[k * slots + x] - mean) * output.valueScale;
      if (!(spread <= maxSpread)) {
        throw new InvalidInputError("A residual chunk does not hold one value in every slot: not an Enc(ρ).", {
          details: `provider ${k}, slot ${x}: ${spread.toExponential(3)} from the mean, at most ${maxSpread.toExponential(3)}`,
        });
      }
    }
    return mean * output.valueScale;
  });
}

/** What bounds a provider's honest ρ_k: its row count and the program's public terms. */
export interface ResidualInputs {
  readonly rows: number;
  readonly lambda: number;
  /** C of the terms: ‖W_k‖_F ≤ C. */
  readonly modelNormBound: number;
}

/**
 * Error bound of Enc(ρ_k) (`residual.ts#encryptedResidual`), per slot in value units, then as ring ℓ2 at the
 * output's scale Δ²/q. Terms add linearly (conservative; rotations of one ciphertext are not independent):
 * - u = Σ_q stats_q ⊙ r (|r_i| = 1/√d, K ciphertexts, rescale rounding), replicated by slots/w rotations;
 * - T = Σ_δ diag_δ ⊙ rot_δ(u) over w offsets with |s_l| = 1/√c (each a key switch and the rescale's rounding);
 * - T ⊙ W: T·ε_W + W·ε_T with |W| ≤ C and |T| ≤ |u|/√c, |u_i| ≤ (n_k·R²·√d + λn_k/√d) (rows of norm ≤ R),
 *   relinearization and rescale rounding; minus rᵀBs's encryption noise (K ciphertexts, |r_i s_l| ≤ 1/√(dc));
 * - the slot sum over N/2 slots (linear) with log2(N/2) key switches.
 */
export function residualNoiseBound(p: NoiseParameters, shape: TrainingShape, inputs: ResidualInputs): NoiseBound {
  const { rows, lambda, modelNormBound } = inputs;
  if (!Number.isSafeInteger(rows) || rows < 1 || !(modelNormBound > 0) || !Number.isFinite(modelNormBound)) {
    throw new InvalidInputError("The residual's bound needs n_k ≥ 1 and a positive model norm bound C.", {
      details: `n_k = ${rows}, C = ${modelNormBound}`,
    });
  }
  const n = p.polyModulusDegree;
  const slots = n / 2;
  const delta = p.scale;
  const top = p.dataPrimes.length;
  const d = shape.features;
  const c = shape.outputs;
  const layout = systemLayout(shape, slots);
  const width = layout.width;
  const std = (ringVariance: number) => Math.sqrt((n * ringVariance) / delta ** 2);
  const fresh = std(freshVariance(p));
  const round = std(roundingVariance(p));
  const ks = (k: number) => std(keySwitchVariance(p, k));
  const u0 = (layout.ciphertextCount / Math.sqrt(d)) * fresh + round;
  const copies = slots / width;
  const u = copies * u0 + Math.log2(copies) * ks(top - 1);
  const t = (width / Math.sqrt(c)) * (u + ks(top - 2)) + round;
  const uMax = rows * RESIDUAL_ROW_NORM_BOUND ** 2 * Math.sqrt(d) + (lambda * rows) / Math.sqrt(d);
  const product = (uMax / Math.sqrt(c)) * fresh + modelNormBound * t + t * fresh + ks(top - 2) + round;
  const bTerm = (layout.ciphertextCount / Math.sqrt(d * c)) * fresh + round;
  const perSlot = product + bTerm;
  const total = slots * perSlot + Math.log2(slots) * ks(top - 3);
  const scale = (delta * delta) / p.dataPrimes[top - 3];
  return { computation: "training", l2: FEW_VARIABLES_TAIL * scale * total, expectedL2: scale * total, scale };
}

/**
 * |ρ_k| of an honest provider: at most its float64 solve's backward error (d·2^-52·‖A_k + λn_kI‖·‖W_k‖ with the
 * public bounds above) plus the CKKS error bound, in value units.
 */
export function residualErrorBound(shape: TrainingShape, inputs: ResidualInputs, p: NoiseParameters): number {
  const bound = residualNoiseBound(p, shape, inputs);
  const d = shape.features;
  const system = inputs.rows * (RESIDUAL_ROW_NORM_BOUND ** 2 + inputs.lambda);
  const solve = d * 2 ** -52 * system * inputs.modelNormBound * d;
  return solve + bound.l2 / bound.scale;
}

/**
 * The tolerance of ρ_k: the honest error bound plus FLOODING_TAIL times the flooding of the released ρ_k, the mean of
 * `slots` real slots of standard deviation σ_slot = σ_ring·√(N/2)/Δ each: the mean's real part is the constant
 * coefficient's σ_ring/Δ = σ_slot/√slots plus the even-index coefficients' share; twice σ_slot/√slots covers both.
 */
export function residualTolerance(errorBound: number, floodingSigma: number, slots: number): number {
  return errorBound + (2 * FLOODING_TAIL * floodingSigma) / Math.sqrt(slots);
}

/** What the custodian needs to release the residual envelope: one bound covering every provider's ρ_k. */
export function residualRelease(
  ctx: CkksContext,
  shape: TrainingShape,
  providers: readonly ResidualInputs[],
): OutputRelease & { readonly errorBounds: number[] } {
  const p = noiseParameters(ctx);
  const bounds = providers.map((inputs) => residualNoiseBound(p, shape, inputs));
  const worst = bounds.reduce((a, b) => (a.l2 >= b.l2 ? a : b));
  // A residual beyond any float a ridge system holds means a forged share or a broken computation.
  return { errorBound: worst, maxAbs: 2 ** 40, errorBounds: providers.map((i) => residualErrorBound(shape, i, p)) };
}

/** Indices (in `included` order) whose |ρ_k| exceeds its tolerance. */
export function flaggedResiduals(rho: readonly number[], tolerances: readonly number[]): number[] {
  return rho.flatMap((value, k) => (!(Math.abs(value) <= tolerances[k]) ? [k] : []));
}
