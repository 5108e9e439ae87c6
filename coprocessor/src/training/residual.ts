import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { CkksError } from "@ciphershare/protocol/ckks/errors";
import { deleteAll, sealCall, type Ciphertext, type GaloisKeys, type RelinKeys } from "@ciphershare/protocol/ckks/seal";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { SeededRandom } from "../random/seeded-random";
import type { EncryptedMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { babySteps, dataPrimes, diagonalPlan, diagonalSum, planSteps } from "./products";
import { regularized } from "./ridge";
import type { ProviderStatistics, TrainingShape } from "@ciphershare/protocol/training/statistics";

/**
 * The consistency check of a provider's local model against its statistics (docs/training.md, *Valuation*):
 * ρ_k = rᵀ((A_k + λn_kI)·W_k − B_k)·s for public random r (d) and s (c) drawn after the uploads are committed. It is
 * zero (to CKKS error) when W_k is the ridge model of the uploaded statistics and of the order of ‖B_k‖ otherwise.
 * Under encryption it is computed from Enc([A_k | B_k]) (row-packed, width w) and Enc(vec(W_k)) (row-major in the
 * first d·c slots), three levels, in every slot of one ciphertext.
 */
export interface ResidualChallenge {
  readonly r: Float64Array;
  readonly s: Float64Array;
}

/** Rademacher vectors of unit norm from a public seed (e.g. derived from the block that closed the round). */
export function residualChallenge(shape: TrainingShape, seed: number): ResidualChallenge {
  const random = new SeededRandom(seed);
  const sign = (n: number) => Float64Array.from({ length: n }, () => (random.nextInt(2) === 0 ? -1 : 1) / Math.sqrt(n));
  return { r: sign(shape.features), s: sign(shape.outputs) };
}

/** ρ in float64 from the plaintext statistics (the reference of the encrypted path). */
export function plaintextResidual(
  stats: ProviderStatistics,
  w: Matrix,
  lambda: number,
  challenge: ResidualChallenge,
): number {
  const p = regularized(stats.a, lambda, stats.rows);
  const d = p.rows;
  const c = stats.b.cols;
  if (w.rows !== d || w.cols !== c) {
    throw new InvalidInputError("The local model must be d×c.", { details: `${w.rows}×${w.cols}, expected ${d}×${c}` });
  }
  let rho = 0;
  for (let i = 0; i < d; i++) {
    for (let l = 0; l < c; l++) {
      let value = -stats.b.data[i * c + l];
      for (let j = 0; j < d; j++) value += p.data[i * d + j] * w.data[j * c + l];
      rho += challenge.r[i] * value * challenge.s[l];
    }
  }
  return rho;
}

/** The row-block width of the statistics' layout, the period of u. */
function blockWidth(stats: EncryptedMatrix): number {
  return stats.layout.width;
}

/** Galois steps of the encrypted check: every power of two (block and slot sums) and the expansion's plan. */
export function residualGaloisSteps(shape: TrainingShape, width: number, slotCount: number): number[] {
  if (shape.features * shape.outputs > slotCount) {
    throw new InvalidInputError("A d×c model does not fit one ciphertext.", {
      details: `d·c = ${shape.features * shape.outputs}`,
    });
  }
  const steps: number[] = [];
  for (let step = 1; step < slotCount; step *= 2) steps.push(step);
  steps.push(...planSteps(diagonalPlan(0, width - 1), 1));
  return [...new Set(steps)].sort((a, b) => a - b);
}

/**
 * Enc(ρ) in every slot: (1) u = (A_k + λn_kI)·r, replicated in every row block (A_k is symmetric: Σ_i r_i·row_i,
 * summed over the blocks by rotations w, 2w, …); (2) T[i·c + l] = u_i·s_l by w rotation-offset diagonals (baby and
 * giant steps); (3) T ⊙ Enc(vec W_k) (relinearized); minus (4) Enc([A_k | B_k]) ⊙ (r_i·s_l on B's columns), at the
 * same level and scale; summed over all slots.
 */
export function encryptedResidual(
  ctx: CkksContext,
  keys: { readonly galoisKeys: GaloisKeys; readonly relinKeys: RelinKeys },
  stats: EncryptedMatrix,
  model: Ciphertext,
  rows: number,
  lambda: number,
  challenge: ResidualChallenge,
  shape: TrainingShape,
): Ciphertext {
  const { evaluator, seal, slotCount } = ctx;
  const d = shape.features;
  const c = shape.outputs;
  const width = blockWidth(stats);
  const { rowsPerCiphertext: block } = stats.layout;
  if (challenge.r.length !== d || challenge.s.length !== c || stats.layout.rows !== d) {
    throw new InvalidInputError("The challenge or the statistics do not have the program's d × c.", {
      details: `r ${challenge.r.length}, s ${challenge.s.length}, statistics ${stats.layout.rows} rows, d × c ${d} × ${c}`,
    });
  }
  const level = stats.ciphertexts[0].coeffModulusSize();
  if (level < 4 || model.coeffModulusSize() !== level) {
    throw new CkksError("The residual needs fresh statistics and model (three levels).", {
      details: `statistics on ${level} primes, model on ${model.coeffModulusSize()}`,
    });
  }
  const primes = dataPrimes(ctx);
  const made: Ciphertext[] = [];
  const fresh = () => {
    const ciphertext = new seal.Ciphertext();
    made.push(ciphertext);
    return ciphertext;
  };
  const slotSum = (x: Ciphertext, from: number) => {
    const rotated = fresh();
    for (let step = from; step < slotCount; step *= 2) {
      sealCall("rotate (sum)", () => {
        evaluator.rotateVector(x, step, keys.galoisKeys, rotated);
        evaluator.addInplace(x, rotated);
      });
    }
  };
  /** Σ_q stats_q ⊙ values(q), encoded at `scale`, at the statistics' level (not rescaled). */
  const masked = (values: (q: number) => Float64Array, scale: number, target: Ciphertext, levelOf?: Ciphertext) => {
    const product = fresh();
    stats.ciphertexts.forEach((ciphertext, q) => {
      let source = ciphertext;
      if (levelOf !== undefined) {
        source = fresh();
        source.assign(ciphertext);
        ctx.switchCiphertextDownTo(source, levelOf.coeffModulusSize());
      }
      const plaintext = ctx.encode(values(q), { scale, levelOf: source });
      try {
        sealCall("multiply by a mask", () => {
          if (q === 0) evaluator.multiplyPlain(source, plaintext, target);
          else {
            evaluator.multiplyPlain(source, plaintext, product);
            evaluator.addInplace(target, product);
          }
        });
      } finally {
        plaintext.delete();
      }
    });
  };
  try {
    // (1) u, replicated with period w.
    const u = fresh();
    masked(
      (q) => {
        const values = new Float64Array(slotCount);
        for (let b = 0; b < block && q * block + b < d; b++)
          values.fill(challenge.r[q * block + b], b * width, b * width + d);
        return values;
      },
      primes[level - 1],
      u,
    );
    sealCall("rescale u", () => evaluator.rescaleToNextInplace(u));
    u.setScale(stats.ciphertexts[0].scale());
    slotSum(u, width);
    const ridge = new Float64Array(slotCount);
    for (let x = 0; x < slotCount; x++) if (x % width < d) ridge[x] = lambda * rows * challenge.r[x % width];
    const ridgePlain = ctx.encode(ridge, { scale: u.scale(), levelOf: u });
    try {
      sealCall("add λn·r", () => evaluator.addPlainInplace(u, ridgePlain));
    } finally {
      ridgePlain.delete();
    }
    // (2) T[i·c + l] = u_i·s_l: offset δ = (i − x) mod w from slot x = i·c + l.
    const plan = diagonalPlan(0, width - 1);
    const babies = babySteps(ctx, keys.galoisKeys, u, plan, 1);
    let t: Ciphertext;
    try {
      t = diagonalSum(ctx, keys.galoisKeys, [babies], plan, 1, (_, offset) => {
        const values = new Float64Array(slotCount);
        let any = false;
        for (let i = 0; i < d; i++) {
          for (let l = 0; l < c; l++) {
            const x = i * c + l;
            if ((((i - x) % width) + width) % width !== offset) continue;
            values[x] = challenge.s[l];
            any = true;
          }
        }
        return any ? values : undefined;
      });
      made.push(t);
    } finally {
      deleteAll(...babies.slice(1));
    }
    // (3) T ⊙ Enc(vec W_k), relinearized, rescaled.
    const w = fresh();
    w.assign(model);
    ctx.switchCiphertextDownTo(w, t.coeffModulusSize());
    const rho = fresh();
    sealCall("multiply T by the model", () => {
      evaluator.multiply(t, w, rho);
      evaluator.relinearizeInplace(rho, keys.relinKeys);
    });
    const productScale = rho.scale();
    sealCall("rescale ρ", () => evaluator.rescaleToNextInplace(rho));
    // (4) rᵀB_k s at the same level (T's) and scale (Δ²), rescaled by the same prime.
    const bTerm = fresh();
    masked(
      (q) => {
        const values = new Float64Array(slotCount);
        for (let b = 0; b < block && q * block + b < d; b++) {
          for (let l = 0; l < c; l++) values[b * width + d + l] = challenge.r[q * block + b] * challenge.s[l];
        }
        return values;
      },
      productScale / stats.ciphertexts[0].scale(),
      bTerm,
      t,
    );
    sealCall("rescale rᵀBs", () => evaluator.rescaleToNextInplace(bTerm));
    bTerm.setScale(rho.scale());
    sealCall("subtract rᵀBs", () => evaluator.subInplace(rho, bTerm));
    slotSum(rho, 1);
    const out = new seal.Ciphertext();
    out.assign(rho);
    return out;
  } finally {
    deleteAll(...made);
  }
}
