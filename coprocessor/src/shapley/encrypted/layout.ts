import { powerOfTwoSteps } from "@ciphershare/protocol/ckks/keys";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { CoefficientMap } from "../coefficients";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";

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

/**
 * Every Galois step the encrypted valuation (and the per-coalition baseline) needs; 0 is the complex conjugation that
 * keeps only the real part of the packed Gram terms (`packedTerm`).
 */
export function requiredGaloisSteps(plan: MatvecPlan): number[] {
  return [...new Set([CONJUGATION_STEP, ...plan.babySteps, ...plan.giantSteps, ...slotSumSteps(plan.slotCount)])].sort(
    (a, b) => a - b,
  );
}

/** SEAL's Galois "step" for complex conjugation. */
export const CONJUGATION_STEP = 0;

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
 * Output layout of the released ciphertext: the slots fall into blocks of B = `outputBlock(n)` (the smallest power of
 * two ≥ n); φ_k sits in slot k of every block (slot x holds φ_{x mod B} when x mod B < n), all other slots are zero —
 * the same n values for the exact and the sampled map. Readers take the first block.
 *
 * Why blocks: a Gram entry G_p = Σ_s prod_p[s] is a sum over every slot. Instead of a full slot sum per entry
 * (log2(slots) = 13 rotations), each entry's product gets a window sum of width B (log2 B rotations: slot x then holds
 * Σ_{r<B} prod_p[x + r]), the mask for entry p puts A[k][p] in every slot ≡ k (mod B), and after all entries are
 * added, one stride sum by B, 2B, …, slots/2 of the total adds the window sums starting at k, k + B, k + 2B, … —
 * windows that tile the whole ring — so slot k ends with Σ_p A[k][p]·G_p. The per-entry rotations drop from 13 to
 * log2 B (5 at n ≤ 32, 7 at n ≤ 128), the stride sum is paid once per valuation.
 */
export function assertMapFits(map: CoefficientMap, slotCount: number): void {
  if (outputBlock(map.n) > slotCount) {
    throw new InvalidInputError("The released scores do not fit in one ciphertext.", {
      details: `${map.n} clients > ${slotCount} slots`,
    });
  }
}

/** B: the smallest power of two ≥ n (at least 1), the period of the output layout. */
export function outputBlock(n: number): number {
  let block = 1;
  while (block < n) block *= 2;
  return block;
}

/** The window-sum steps of one entry: 1, 2, …, B/2 (every slot x then holds the sum of slots x … x + B − 1). */
export function windowSumSteps(block: number): number[] {
  const steps: number[] = [];
  for (let step = 1; step < block; step *= 2) steps.push(step);
  return steps;
}

/** The stride-sum steps paid once on the total: B, 2B, …, slots/2. */
export function strideSumSteps(block: number, slotCount: number): number[] {
  const steps: number[] = [];
  for (let step = block; step < slotCount; step *= 2) steps.push(step);
  return steps;
}

/** `values[k]` (k < n) in every slot ≡ k (mod B), zeros elsewhere. */
function blockPeriodic(values: (k: number) => number, n: number, slotCount: number): Float64Array {
  const block = outputBlock(n);
  const out = new Float64Array(slotCount);
  for (let k = 0; k < n; k++) {
    const value = values(k);
    for (let x = k; x < slotCount; x += block) out[x] = value;
  }
  return out;
}

export function coefficientMask(map: CoefficientMap, entry: number, slotCount: number): Float64Array {
  return blockPeriodic((k) => map.rows[k * map.entries + entry] / map.outputScale, map.n, slotCount);
}

/**
 * Gram entries are packed two per term: term t holds entries 2t and 2t + 1 (the last term alone when the count is
 * odd), a fixed pairing so that every split of the terms into jobs adds the same ciphertexts. The term's ciphertext
 * is S = P_2t + J·P_2t+1 with J = ±i·√2 in every slot (imaginary-unit.ts): the two real products share one
 * relinearization, one rescale and one window sum (J commutes with rotations). Its masks: term = M1 ⊙ S + M2 ⊙ (J·S);
 * since J² = −2 and the windows W1, W2 are real, Re(S) = W1 and Re(J·S) = −2·W2 (whatever the sign of J), so
 * M1 = A[·][2t]/2 and M2 = −A[·][2t + 1]/4 give Re(term) = (A[·][2t]·W1 + A[·][2t + 1]·W2)/2. The imaginary part holds
 * other combinations of the Gram entries; `finishScores` releases total + conj(total) = 2·Re(total), which restores
 * the factor 2.
 */
export interface PackedTerm {
  readonly first: number;
  /** Undefined for the last term of an odd number of entries. */
  readonly second: number | undefined;
}

export function packedTermCount(entries: number): number {
  return Math.ceil(entries / 2);
}

export function packedTerm(term: number, entries: number): PackedTerm {
  if (!Number.isInteger(term) || term < 0 || term >= packedTermCount(entries)) {
    throw new InvalidInputError("No such packed Gram term.", {
      details: `term ${term} of ${packedTermCount(entries)} (${entries} entries)`,
    });
  }
  const second = 2 * term + 1;
  return { first: 2 * term, second: second < entries ? second : undefined };
}

/** The masks M1 (real part) and M2 (via J) of a packed term, in the layout of `coefficientMask`. */
export function packedMasks(
  map: CoefficientMap,
  term: number,
  slotCount: number,
): { first: Float64Array; second: Float64Array | undefined } {
  const { first, second } = packedTerm(term, map.entries);
  const scaled = (entry: number, factor: number) =>
    blockPeriodic((k) => (factor * map.rows[k * map.entries + entry]) / map.outputScale, map.n, slotCount);
  // J² = −2 (imaginary-unit.ts, UNIT_GAIN_SQUARED; this module stays free of SEAL): the second mask is −1/(2·2).
  return { first: scaled(first, 1 / 2), second: second === undefined ? undefined : scaled(second, -1 / 4) };
}

/** The public constants of φ in the same layout, added in plaintext to the encrypted sum. */
export function constantMask(map: CoefficientMap, slotCount: number): Float64Array {
  return blockPeriodic((k) => map.constant[k] / map.outputScale, map.n, slotCount);
}

/** Reads φ back out of the decrypted (or released) slots, undoing the output scale. */
export function readScores(slots: ArrayLike<number>, map: Pick<CoefficientMap, "n" | "outputScale">): Float64Array {
  return Float64Array.from({ length: map.n }, (_, k) => slots[k] * map.outputScale);
}
