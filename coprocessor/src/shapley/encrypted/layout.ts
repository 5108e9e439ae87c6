import { powerOfTwoSteps } from "@ciphershare/protocol/ckks/keys";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { CoefficientMap } from "../coefficients";
import type { Matrix } from "../../linalg/matrix";

/**
 * Slot layouts of the encrypted Shapley computation (pure, no SEAL).
 *
 * A model w (d×c) is packed row-major: slot r·c + o holds w[r][o]; d·c must fit in the slots. Then
 * z = (R ⊗ I_c)·vec(w) is vec(R·w), and because R is upper-triangular the matrix R ⊗ I_c has non-zero
 * diagonals only at offsets δ = c·k (k = 0..d−1) with s + δ < d·c, so no diagonal wraps around:
 * z = Σ_k diag_k ⊙ rot(w, c·k), diag_k[r·c + o] = R[r][r + k].
 *
 * Baby-step/giant-step with k = B·g + b: diag_k ⊙ rot(w, c(Bg + b)) = rot(rot(diag_k, −cBg) ⊙ rot(w, cb), cBg),
 * so B − 1 rotations of w and G − 1 rotations of partial sums replace d − 1 rotations.
 */
export interface MatvecPlan {
  readonly d: number;
  readonly c: number;
  readonly slotCount: number;
  readonly babySize: number;
  /** Per giant step g, its non-zero pre-rotated diagonals, each with its baby index b. */
  readonly giants: ReadonlyArray<{ readonly giant: number; readonly diagonals: ReadonlyArray<PlannedDiagonal> }>;
  readonly babySteps: readonly number[];
  readonly giantSteps: readonly number[];
}

export interface PlannedDiagonal {
  readonly baby: number;
  readonly values: Float64Array;
}

export function matvecPlan(r: Matrix, c: number, slotCount: number, babySize?: number): MatvecPlan {
  const d = r.rows;
  if (r.cols !== d) throw new InvalidInputError("R must be square.", { details: `${r.rows}×${r.cols}` });
  if (d * c > slotCount) {
    throw new InvalidInputError("A d×c model does not fit in one ciphertext of this parameter set.", {
      details: `d·c = ${d * c} > ${slotCount} slots`,
    });
  }
  const baby = babySize ?? Math.max(1, Math.ceil(Math.sqrt(d)));
  const giantCount = Math.ceil(d / baby);
  const giants: { giant: number; diagonals: PlannedDiagonal[] }[] = [];
  const babyUsed = new Set<number>();
  for (let g = 0; g < giantCount; g++) {
    const diagonals: PlannedDiagonal[] = [];
    const shift = c * baby * g;
    for (let b = 0; b < baby; b++) {
      const k = baby * g + b;
      if (k >= d) break;
      const values = new Float64Array(slotCount);
      let nonZero = false;
      for (let row = 0; row + k < d; row++) {
        const entry = r.data[row * d + row + k];
        if (entry === 0) continue;
        nonZero = true;
        for (let o = 0; o < c; o++) values[(row * c + o + shift) % slotCount] = entry;
      }
      if (!nonZero) continue; // multiplying by an all-zero plaintext is both useless and refused by SEAL
      diagonals.push({ baby: b, values });
      babyUsed.add(b);
    }
    if (diagonals.length > 0) giants.push({ giant: g, diagonals });
  }
  return {
    d,
    c,
    slotCount,
    babySize: baby,
    giants,
    babySteps: [...babyUsed].filter((b) => b > 0).map((b) => c * b),
    giantSteps: giants.filter((g) => g.giant > 0).map((g) => c * baby * g.giant),
  };
}

/** The steps 1, 2, 4, …, slotCount/2 a slot sum rotates by (every slot ends up holding the total). */
export function slotSumSteps(slotCount: number): number[] {
  return powerOfTwoSteps(slotCount, false);
}

/** Every Galois step the encrypted valuation (and the per-coalition baseline) needs. */
export function requiredGaloisSteps(plan: MatvecPlan): number[] {
  return [...new Set([...plan.babySteps, ...plan.giantSteps, ...slotSumSteps(plan.slotCount)])].sort((a, b) => a - b);
}

/** vec(w): row-major d×c model in the first d·c slots. */
export function packModel(w: Matrix, slotCount: number): Float64Array {
  if (w.data.length > slotCount) {
    throw new InvalidInputError("The model does not fit in one ciphertext.", {
      details: `${w.rows}×${w.cols} = ${w.data.length} values > ${slotCount} slots`,
    });
  }
  const out = new Float64Array(slotCount);
  out.set(w.data);
  return out;
}

/**
 * Output layout of the released ciphertext: φ_k sits in slot k (k < n), all other slots are zero — the
 * same n values for the exact and the sampled map. The mask for Gram entry p carries A[k][p] in slot k.
 */
export function assertMapFits(map: CoefficientMap, slotCount: number): void {
  if (map.n > slotCount) {
    throw new InvalidInputError("The released scores do not fit in one ciphertext.", {
      details: `${map.n} clients > ${slotCount} slots`,
    });
  }
}

export function coefficientMask(map: CoefficientMap, entry: number, slotCount: number): Float64Array {
  const out = new Float64Array(slotCount);
  for (let k = 0; k < map.n; k++) out[k] = map.rows[k * map.entries + entry] / map.outputScale;
  return out;
}

/** The public constants of φ in the same layout, added in plaintext to the encrypted sum. */
export function constantMask(map: CoefficientMap, slotCount: number): Float64Array {
  const out = new Float64Array(slotCount);
  for (let k = 0; k < map.n; k++) out[k] = map.constant[k] / map.outputScale;
  return out;
}

/** Reads φ back out of the decrypted (or released) slots, undoing the output scale. */
export function readScores(slots: ArrayLike<number>, map: Pick<CoefficientMap, "n" | "outputScale">): Float64Array {
  return Float64Array.from({ length: map.n }, (_, k) => slots[k] * map.outputScale);
}
