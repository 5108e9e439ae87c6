import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { CkksError } from "@ciphershare/protocol/ckks/errors";
import { deleteAll, sealCall, type Ciphertext, type GaloisKeys, type Plaintext } from "@ciphershare/protocol/ckks/seal";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { encryptedMatrix, type EncryptedMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { rowPackedLayout, rowsIn, type RowPackedLayout } from "@ciphershare/protocol/training/layout";

/**
 * Plaintext × ciphertext matrix products on row-packed matrices, by the diagonal method with baby and giant
 * steps: a product is Σ_t diag_t ⊙ rot_{t·unit}(x) over offsets t ∈ [tMin, tMax], written t = s + b with giant
 * offsets s (multiples of the baby size past tMin) and baby offsets b, so Σ_s rot_s(Σ_b rot_{−s}(diag_{s+b}) ⊙
 * rot_b(x)) costs (baby size + giants) rotations instead of one per offset. Each product is one level: the
 * diagonals are encoded at the scale of the prime the rescale divides by, so the scale comes back unchanged.
 */
export interface DiagonalPlan {
  readonly tMin: number;
  readonly tMax: number;
  readonly babySize: number;
  /** Giant offsets s = tMin + babySize·a up to tMax. */
  readonly giants: readonly number[];
}

export function diagonalPlan(tMin: number, tMax: number): DiagonalPlan {
  const babySize = Math.ceil(Math.sqrt(tMax - tMin + 1));
  const giants: number[] = [];
  for (let s = tMin; s <= tMax; s += babySize) giants.push(s);
  return { tMin, tMax, babySize, giants };
}

/** Rotation steps a plan needs at a unit (1 for columns, the row width for rows). */
export function planSteps(plan: DiagonalPlan, unit: number): number[] {
  const steps: number[] = [];
  for (let b = 1; b < plan.babySize; b++) steps.push(b * unit);
  for (const s of plan.giants) if (s !== 0) steps.push(s * unit);
  return steps;
}

/** Offsets of L·X (L: outRows × layout.rows) between the rows of one ciphertext and those of another. */
export function leftPlan(layout: RowPackedLayout, outRows: number): DiagonalPlan {
  const block = layout.rowsPerCiphertext;
  return diagonalPlan(-(Math.min(block, outRows) - 1), Math.min(block, layout.rows) - 1);
}

/** Offsets of X·B (B: cols × outCols) within a row block. */
export function rightPlan(cols: number, outCols: number): DiagonalPlan {
  return diagonalPlan(-(outCols - 1), cols - 1);
}

/** Rotation steps of L·X for X in `layout` and L with `outRows` rows. */
export function leftProductSteps(layout: RowPackedLayout, outRows: number): number[] {
  return planSteps(leftPlan(layout, outRows), layout.width);
}

/** Rotation steps of X·B for X with `cols` columns and B with `outCols` columns. */
export function rightProductSteps(cols: number, outCols: number): number[] {
  return planSteps(rightPlan(cols, outCols), 1);
}

/** L·X for a plaintext L (outRows × rows) and an encrypted X: one level. The output keeps X's row width. */
export function leftMultiply(ctx: CkksContext, galoisKeys: GaloisKeys, l: Matrix, x: EncryptedMatrix): EncryptedMatrix {
  const inLayout = x.layout;
  if (l.cols !== inLayout.rows) {
    throw new InvalidInputError("Matrix shapes do not chain (plaintext · encrypted).", {
      details: `${l.rows}×${l.cols} · ${inLayout.rows}×${inLayout.cols}`,
    });
  }
  const outLayout = rowPackedLayout(l.rows, inLayout.cols, inLayout.slotCount, inLayout.width);
  const plan = leftPlan(inLayout, l.rows);
  const { width, rowsPerCiphertext: block, slotCount } = inLayout;
  const babies = x.ciphertexts.map((ciphertext) => babySteps(ctx, galoisKeys, ciphertext, plan, width));
  const outputs: Ciphertext[] = [];
  try {
    for (let o = 0; o < outLayout.ciphertextCount; o++) {
      const outRows = rowsIn(outLayout, o);
      outputs.push(
        diagonalSum(ctx, galoisKeys, babies, plan, width, (i, t) => {
          const inRows = rowsIn(inLayout, i);
          const values = new Float64Array(slotCount);
          let any = false;
          for (let r = 0; r < outRows; r++) {
            const source = r + t;
            if (source < 0 || source >= inRows) continue;
            const coefficient = l.data[(o * block + r) * l.cols + i * block + source];
            if (coefficient === 0) continue;
            values.fill(coefficient, r * width, r * width + inLayout.cols);
            any = true;
          }
          return any ? values : undefined;
        }),
      );
    }
  } catch (error) {
    deleteAll(...outputs);
    throw error;
  } finally {
    for (const set of babies) deleteAll(...set.slice(1));
  }
  return encryptedMatrix(outLayout, outputs);
}

/** X·B for an encrypted X and a plaintext B (cols × outCols, outCols ≤ X's row width): one level. */
export function rightMultiply(
  ctx: CkksContext,
  galoisKeys: GaloisKeys,
  x: EncryptedMatrix,
  b: Matrix,
): EncryptedMatrix {
  const inLayout = x.layout;
  if (b.rows !== inLayout.cols) {
    throw new InvalidInputError("Matrix shapes do not chain (encrypted · plaintext).", {
      details: `${inLayout.rows}×${inLayout.cols} · ${b.rows}×${b.cols}`,
    });
  }
  const outLayout = rowPackedLayout(inLayout.rows, b.cols, inLayout.slotCount, inLayout.width);
  const plan = rightPlan(inLayout.cols, b.cols);
  const { width, rowsPerCiphertext: block, slotCount } = inLayout;
  const diagonal = (t: number): Float64Array | undefined => {
    const values = new Float64Array(slotCount);
    let any = false;
    for (let col = 0; col < b.cols; col++) {
      const source = col + t;
      if (source < 0 || source >= inLayout.cols) continue;
      const coefficient = b.data[source * b.cols + col];
      if (coefficient === 0) continue;
      for (let r = 0; r < block; r++) values[r * width + col] = coefficient;
      any = true;
    }
    return any ? values : undefined;
  };
  // Every ciphertext of X meets the same diagonals: encode each once (memory: one plaintext per offset).
  const cache = new Map<number, Plaintext | null>();
  const outputs: Ciphertext[] = [];
  try {
    for (const ciphertext of x.ciphertexts) {
      const babies = babySteps(ctx, galoisKeys, ciphertext, plan, 1);
      try {
        outputs.push(diagonalSum(ctx, galoisKeys, [babies], plan, 1, (_, t) => diagonal(t), cache));
      } finally {
        deleteAll(...babies.slice(1));
      }
    }
  } catch (error) {
    deleteAll(...outputs);
    throw error;
  } finally {
    deleteAll(...cache.values());
  }
  return encryptedMatrix(outLayout, outputs);
}

/** [x, rot_unit(x), …, rot_{(babySize−1)·unit}(x)]; the first is x itself (not a copy). */
export function babySteps(
  ctx: CkksContext,
  galoisKeys: GaloisKeys,
  x: Ciphertext,
  plan: DiagonalPlan,
  unit: number,
): Ciphertext[] {
  const out: Ciphertext[] = [x];
  try {
    for (let b = 1; b < plan.babySize; b++) {
      const rotated = new ctx.seal.Ciphertext();
      out.push(rotated);
      sealCall("rotate (baby step)", () => ctx.evaluator.rotateVector(x, b * unit, galoisKeys, rotated));
    }
    return out;
  } catch (error) {
    deleteAll(...out.slice(1));
    throw error;
  }
}

/**
 * Σ_inputs Σ_t diag(input, t) ⊙ rot_{t·unit}(input), rescaled once. `babies[i][b]` is input i rotated by b·unit;
 * `diagonal` returns undefined for an all-zero diagonal (SEAL refuses to multiply by a zero plaintext).
 */
export function diagonalSum(
  ctx: CkksContext,
  galoisKeys: GaloisKeys,
  babies: readonly (readonly Ciphertext[])[],
  plan: DiagonalPlan,
  unit: number,
  diagonal: (input: number, t: number) => Float64Array | undefined,
  cache?: Map<number, Plaintext | null>,
): Ciphertext {
  const { evaluator, seal } = ctx;
  const first = babies[0][0];
  const inputScale = first.scale();
  const level = first.coeffModulusSize();
  for (const set of babies) {
    if (set[0].coeffModulusSize() !== level || set[0].scale() !== inputScale) {
      throw new CkksError("Every ciphertext of an encrypted matrix must share one level and scale.");
    }
  }
  if (level < 2) throw new CkksError("No level left for a matrix product.", { details: `${level} prime left` });
  const prime = dataPrimes(ctx)[level - 1];
  const result = new seal.Ciphertext();
  const inner = new seal.Ciphertext();
  const product = new seal.Ciphertext();
  let started = false;
  try {
    for (const giant of plan.giants) {
      let innerStarted = false;
      for (let b = 0; b < plan.babySize; b++) {
        const t = giant + b;
        if (t > plan.tMax) break;
        for (let i = 0; i < babies.length; i++) {
          // A cache (right products: every ciphertext uses the same diagonals) is keyed by t; giants are fixed.
          let plaintext = cache?.get(t);
          if (plaintext === undefined) {
            const values = diagonal(i, t);
            plaintext = values ? encodeShifted(ctx, values, giant * unit, prime, first) : null;
            cache?.set(t, plaintext);
          }
          if (plaintext === null) continue;
          const factor = plaintext;
          try {
            sealCall("multiply by a diagonal", () => {
              if (!innerStarted) evaluator.multiplyPlain(babies[i][b], factor, inner);
              else {
                evaluator.multiplyPlain(babies[i][b], factor, product);
                evaluator.addInplace(inner, product);
              }
            });
          } finally {
            if (!cache) factor.delete();
          }
          innerStarted = true;
        }
      }
      if (!innerStarted) continue;
      if (giant !== 0) {
        sealCall("rotate (giant step)", () => evaluator.rotateVectorInplace(inner, giant * unit, galoisKeys));
      }
      sealCall("accumulate a giant step", () => {
        if (!started) result.assign(inner);
        else evaluator.addInplace(result, inner);
      });
      started = true;
    }
    if (!started) throw new InvalidInputError("The plaintext matrix of a product is all zeros.");
    sealCall("rescale a matrix product", () => evaluator.rescaleToNextInplace(result));
    result.setScale(sameScale(result.scale(), inputScale));
    return result;
  } catch (error) {
    result.delete();
    throw error;
  } finally {
    deleteAll(inner, product);
  }
}

/** rot_{−shift}(values) encoded at `scale` and at the ciphertext's level. */
function encodeShifted(
  ctx: CkksContext,
  values: Float64Array,
  shift: number,
  scale: number,
  levelOf: Ciphertext,
): Plaintext {
  const slots = ctx.slotCount;
  const rotated = new Float64Array(slots);
  for (let j = 0; j < slots; j++) rotated[j] = values[(((j - shift) % slots) + slots) % slots];
  return ctx.encode(rotated, { scale, levelOf });
}

/** Data primes q0..q_L of the context (SEAL rescales drop them from the end), as doubles like SEAL uses. */
export function dataPrimes(ctx: CkksContext): number[] {
  const data = ctx.context.firstContextData();
  const parms = data.parms();
  const vector = parms.coeffModulus();
  try {
    return (ctx.seal.jsArrayFromVecModulus(vector) as bigint[]).map((prime) => Number(prime));
  } finally {
    deleteAll(vector, parms, data);
  }
}

function sameScale(actual: number, expected: number): number {
  if (Math.abs(actual / expected - 1) > 1e-12) {
    throw new CkksError("Internal scale mismatch in an encrypted matrix product.", {
      details: `2^${Math.log2(actual)} vs 2^${Math.log2(expected)}`,
    });
  }
  return expected;
}
