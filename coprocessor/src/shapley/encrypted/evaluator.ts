import { CkksError } from "@ciphershare/protocol/ckks/errors";
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  deleteAll,
  sealCall,
  type Ciphertext,
  type GaloisKeys,
  type Plaintext,
  type RelinKeys,
} from "@ciphershare/protocol/ckks/seal";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { CoefficientMap } from "../coefficients";
import { pairCount, pairOfIndex } from "../gram";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import {
  assertMapFits,
  matvecPlan,
  outputBlock,
  packedMasks,
  packedTerm,
  packModel,
  strideSumSteps,
  windowSumSteps,
  type MatvecPlan,
} from "./layout";
import type { ProjectionChallenge } from "./consistency";
import { imaginaryUnit } from "./imaginary-unit";
import { rotateAndAddInplace, rotateComposed, sumSlotsInplace } from "./slots";
import { rotationSchedule } from "./rotations";

/** The plaintext side of the computation: the validation kernel's R and XᵀY, and the coefficient map. */
export interface EvaluatorSetup {
  readonly r: Matrix;
  readonly xty: Matrix;
  /** Needed for Shapley terms; the per-coalition baseline does without. */
  readonly map?: CoefficientMap;
  /** n_v·c and ‖Y‖², for the per-coalition baseline's utility. */
  readonly normalizer: number;
  readonly yNormSquared: number;
}

/**
 * The homomorphic steps of the Gram method, on one SEAL instance (one per worker thread).
 *
 * Levels and scales, with data primes q0 … qL and fresh scale Δ (deep-v1: L = 3, Δ = 2^50 = the 50-bit
 * primes; deep-v2: L = 4, Δ = 2^76 over 60-bit primes, so everything after the product sits at 2^92 on the
 * last two primes, headroom that flooding by the book needs); each plaintext is encoded at the scale of
 * the prime the next rescale divides by, so scales stay put:
 * - level 1: z_i = (R⊗I)·w_i, diagonals at scale qL → z_i at scale Δ;
 *   b-path: w_i ⊙ XᵀY at scale Δ·qL/q(L−1) → scale Δ²/q(L−1), then a modulus switch to level 2;
 * - level 2: z_i ⊙ z_j (relinearised) → scale Δ²/q(L−1);
 * - Gram entries are packed two per term (`layout.ts#packedTerm`): S = P1 + J·P2 with J the imaginary unit
 *   (`imaginary-unit.ts`; two pair products are added before their one relinearization), so a term pays one window
 *   sum for two entries;
 * - window sum of width B = `outputBlock(n)` at level 2 (log2 B rotations), then level 3: M1 ⊙ S + M2 ⊙ (J·S), the
 *   masks holding ±A[k][p]/2 in every slot ≡ k mod B, at scale q(L−2). All terms add into one ciphertext; one stride
 *   sum of that total and one conjugation (`finishScores`, log2(slots/B) rotations at level 3, total + conj(total))
 *   leave φ (minus its public constant) in slot k of every block and zeros elsewhere (`layout.ts` explains why the
 *   windows tile the ring).
 */
export class EncryptedShapleyEvaluator {
  readonly plan: MatvecPlan;
  /** Scale of every Shapley term at level 3. */
  readonly termScale: number;
  /** The primes the three rescales divide by: qL (projection), q(L−1) (product), q(L−2) (mask). */
  private readonly rescalePrimes: { top: number; middle: number; low: number };
  private diagonalsAtTop: Plaintext[][] | undefined;
  private diagonalsAtLevel1: Plaintext[][] | undefined;
  private xtyForBias: Plaintext | undefined;
  /** J per level (coefficient modulus size): level 1 for the pair products, level 2 for biases and the masks. */
  private readonly units = new Map<number, Plaintext>();
  /** Per rotation step of the projection, the key switches that perform it with the loaded keys (`rotations.ts`). */
  private readonly schedules = new Map<number, number[]>();

  /** `keys.galoisSteps`: the steps the Galois keys hold; a projection step without its own key is composed. */
  constructor(
    private readonly ctx: CkksContext,
    private readonly keys: { relinKeys: RelinKeys; galoisKeys: GaloisKeys; galoisSteps: readonly number[] },
    private readonly setup: EvaluatorSetup,
  ) {
    if (ctx.parameterSet.multiplicativeDepth < 3) {
      throw new InvalidInputError("Encrypted Shapley needs a parameter set with 3 rescales (deep-v1, deep-v2).", {
        details: `${ctx.parameterSet.id} has ${ctx.parameterSet.multiplicativeDepth}`,
      });
    }
    this.plan = matvecPlan(setup.r, setup.xty.cols, ctx.slotCount);
    // Refuse a key set that cannot project at all now, not in the middle of a fallback projection.
    for (const step of [...this.plan.babySteps, ...this.plan.giantSteps])
      this.schedules.set(step, rotationSchedule(step, keys.galoisSteps));
    if (setup.map) assertMapFits(setup.map, ctx.slotCount);
    const primes = dataPrimes(ctx);
    const last = primes.length - 1;
    this.rescalePrimes = { top: primes[last], middle: primes[last - 1], low: primes[last - 2] };
    this.termScale = (ctx.scale * ctx.scale) / this.rescalePrimes.middle;
  }

  /** z = (R ⊗ I_c)·vec(w) by baby-step/giant-step diagonals; input fresh (level 0), output at level 1. */
  matvec(w: Ciphertext): Ciphertext {
    return this.bsgs(w, this.projectionDiagonals());
  }

  /** Encodes the projection's diagonals now (a worker's setup) rather than in its first projection. */
  prepareProjection(): void {
    this.projectionDiagonals();
  }

  /** z_i ⊙ z_j, relinearised and rescaled: level 2 at `termScale`. */
  pairProduct(zi: Ciphertext, zj: Ciphertext): Ciphertext {
    const { evaluator } = this.ctx;
    const product = new this.ctx.seal.Ciphertext();
    try {
      sealCall("multiply two projected models", () => {
        evaluator.multiply(zi, zj, product);
        evaluator.relinearizeInplace(product, this.keys.relinKeys);
        evaluator.rescaleToNextInplace(product);
      });
      product.setScale(sameScale(product.scale(), this.termScale));
      return product;
    } catch (error) {
      product.delete();
      throw error;
    }
  }

  /** w_i ⊙ XᵀY from the fresh ciphertext, rescaled and switched down: level 2 at `termScale`. */
  biasProduct(w: Ciphertext): Ciphertext {
    const { top: q3, middle: q2 } = this.rescalePrimes;
    this.xtyForBias ??= this.ctx.encode(packModel(this.setup.xty, this.ctx.slotCount), {
      scale: (this.ctx.scale * q3) / q2,
    });
    const { evaluator } = this.ctx;
    const product = new this.ctx.seal.Ciphertext();
    try {
      sealCall("weight a model by XᵀY", () => {
        evaluator.multiplyPlain(w, this.xtyForBias!, product);
        evaluator.rescaleToNextInplace(product);
        evaluator.cipherModSwitchToNextInplace(product);
      });
      product.setScale(sameScale(product.scale(), this.termScale));
      return product;
    } catch (error) {
      product.delete();
      throw error;
    }
  }

  /** Product of Gram entry `entry` (pairs first, then biases, as in the Gram layout). */
  entryProduct(entry: number, projections: (i: number) => Ciphertext, models: (i: number) => Ciphertext): Ciphertext {
    const n = this.requireMap().n;
    if (entry >= pairCount(n)) return this.biasProduct(models(entry - pairCount(n)));
    const [i, j] = pairOfIndex(entry, n);
    return this.pairProduct(projections(i), projections(j));
  }

  /**
   * S = P_first + J·P_second of packed term `term` (`layout.ts#packedTerm`), level 2 at `termScale`. Two products of
   * projections are added unrelinearized (size 3; J is a plaintext, so it applies to any size), then relinearized and
   * rescaled once; a term with a bias product combines the two products at level 2; an odd last term is one product.
   */
  packedProduct(term: number, projections: (i: number) => Ciphertext, models: (i: number) => Ciphertext): Ciphertext {
    const map = this.requireMap();
    const { first, second } = packedTerm(term, map.entries);
    if (second === undefined) return this.entryProduct(first, projections, models);
    const { evaluator, seal } = this.ctx;
    if (second < pairCount(map.n)) {
      const [a, b] = pairOfIndex(first, map.n);
      const [c, d] = pairOfIndex(second, map.n);
      const sum = new seal.Ciphertext();
      const other = new seal.Ciphertext();
      try {
        const unit = this.unitAt(projections(c));
        sealCall("multiply two pairs of projected models", () => {
          evaluator.multiply(projections(a), projections(b), sum);
          evaluator.multiply(projections(c), projections(d), other);
          evaluator.multiplyPlain(other, unit, other);
        });
        other.setScale(sameScale(other.scale(), sum.scale()));
        sealCall("pack two Gram products into one ciphertext", () => {
          evaluator.addInplace(sum, other);
          evaluator.relinearizeInplace(sum, this.keys.relinKeys);
          evaluator.rescaleToNextInplace(sum);
        });
        sum.setScale(sameScale(sum.scale(), this.termScale));
        return sum;
      } catch (error) {
        sum.delete();
        throw error;
      } finally {
        other.delete();
      }
    }
    const sum = this.entryProduct(first, projections, models);
    let other: Ciphertext | undefined;
    try {
      other = this.entryProduct(second, projections, models);
      const unit = this.unitAt(other);
      const rotated = other;
      sealCall("pack two Gram products into one ciphertext", () => {
        evaluator.multiplyPlain(rotated, unit, rotated);
        evaluator.addInplace(sum, rotated);
      });
      return sum;
    } catch (error) {
      sum.delete();
      throw error;
    } finally {
      deleteAll(other);
    }
  }

  /**
   * Level 3: M1 ⊙ windowSum_B(S) + M2 ⊙ J·windowSum_B(S) (`layout.ts#packedMasks`), whose real part is half the two
   * entries' masked terms. Window-sums `packed` in place (log2 B rotations at level 2, the dominant cost of a term).
   */
  maskedPackedTerm(packed: Ciphertext, term: number): Ciphertext {
    const map = this.requireMap();
    rotateAndAddInplace(this.ctx, this.keys.galoisKeys, packed, windowSumSteps(outputBlock(map.n)));
    const masks = packedMasks(map, term, this.ctx.slotCount);
    const { evaluator, seal } = this.ctx;
    // Masks are encoded on use and freed at once: each packed term is handled exactly once per run.
    const encoded: Plaintext[] = [];
    const out = new seal.Ciphertext();
    const rotated = new seal.Ciphertext();
    try {
      encoded.push(this.ctx.encode(masks.first, { scale: this.rescalePrimes.low, levelOf: packed }));
      sealCall("apply a Shapley coefficient mask", () => evaluator.multiplyPlain(packed, encoded[0], out));
      if (masks.second) {
        encoded.push(this.ctx.encode(masks.second, { scale: this.rescalePrimes.low, levelOf: packed }));
        const unit = this.unitAt(packed);
        sealCall("apply the second entry's mask through J", () => {
          evaluator.multiplyPlain(packed, unit, rotated);
          evaluator.multiplyPlain(rotated, encoded[1], rotated);
          evaluator.addInplace(out, rotated);
        });
      }
      sealCall("rescale a masked Shapley term", () => evaluator.rescaleToNextInplace(out));
      out.setScale(sameScale(out.scale(), this.termScale));
      return out;
    } catch (error) {
      out.delete();
      throw error;
    } finally {
      deleteAll(rotated, ...encoded);
    }
  }

  /**
   * The sum of every masked term, stride-summed in place (B, 2B, …, slots/2 at level 3), then total + conj(total): slot
   * k of every block then holds φ_k minus its constant, and every slot is real (the imaginary parts of the packed
   * terms hold other combinations of the Gram entries, which must not be released). Run once on the whole sum, never
   * on partial sums: a rotation's key switch rounds, so only one fixed order of operations gives the same bytes
   * everywhere.
   */
  finishScores(total: Ciphertext): void {
    const block = outputBlock(this.requireMap().n);
    rotateAndAddInplace(this.ctx, this.keys.galoisKeys, total, strideSumSteps(block, this.ctx.slotCount));
    const conjugate = new this.ctx.seal.Ciphertext();
    try {
      sealCall("keep the real part (conjugate and add)", () => {
        this.ctx.evaluator.complexConjugate(total, this.keys.galoisKeys, conjugate);
        this.ctx.evaluator.addInplace(total, conjugate);
      });
    } finally {
      conjugate.delete();
    }
  }

  /**
   * The consistency residual of submitted projections (`consistency.ts`): Σ_i ⟨v_i, w_i⟩ − ⟨ρ_i, z_i⟩ in every slot,
   * from fresh w_i and fresh submitted z_i. Two plaintext products per client at the top level, then for all clients
   * together one rescale, two exact modulus switches and one slot sum at level 3: the level and scale of φ.
   */
  consistencyResidual(
    checks: readonly { model: Ciphertext; projection: Ciphertext; challenge: ProjectionChallenge }[],
  ): Ciphertext {
    if (checks.length === 0) throw new InvalidInputError("A consistency check needs at least one client.");
    const { evaluator, seal } = this.ctx;
    // Challenges at qL·termScale/Δ: after one rescale the residual sits at termScale, the scale of φ, whose level it is
    // then switched to (exactly), so it is released like an output and slot-summed where rotations are cheapest.
    const scale = (this.rescalePrimes.top * this.termScale) / this.ctx.scale;
    const total = new seal.Ciphertext();
    const term = new seal.Ciphertext();
    try {
      checks.forEach(({ model, projection, challenge }, index) => {
        const v = this.ctx.encode(challenge.v, { scale, levelOf: model });
        const rho = this.ctx.encode(challenge.rho, { scale, levelOf: projection });
        try {
          sealCall("weight a model and its submitted projection by the challenge", () => {
            if (index === 0) evaluator.multiplyPlain(model, v, total);
            else {
              evaluator.multiplyPlain(model, v, term);
              evaluator.addInplace(total, term);
            }
            evaluator.multiplyPlain(projection, rho, term);
            evaluator.subInplace(total, term);
          });
        } finally {
          deleteAll(v, rho);
        }
      });
      sealCall("rescale a consistency residual and switch it to the output level", () => {
        evaluator.rescaleToNextInplace(total);
        evaluator.cipherModSwitchToNextInplace(total);
        evaluator.cipherModSwitchToNextInplace(total);
      });
      total.setScale(sameScale(total.scale(), this.termScale));
      this.sumSlotsInplace(total);
      return total;
    } catch (error) {
      total.delete();
      throw error;
    } finally {
      term.delete();
    }
  }

  /**
   * The per-coalition baseline (what HESV does): Enc(U(S)) from the members' fresh ciphertexts, by building
   * the coalition model λ·w_S = Σ (λ·m_i/M_S)·w_i (λ = 1/√(n_v·c)), projecting it, squaring it and adding
   * the b-term and the constant, all under encryption. Every slot of the result holds U(S).
   */
  coalitionUtility(models: readonly Ciphertext[], sampleCounts: readonly number[]): Ciphertext {
    const { evaluator, seal } = this.ctx;
    const { top: q3, middle: q2, low: q1 } = this.rescalePrimes;
    const lambda = 1 / Math.sqrt(this.setup.normalizer);
    const total = sampleCounts.reduce((a, b) => a + b, 0);
    const owned: (Ciphertext | Plaintext)[] = [];
    const track = <T extends Ciphertext | Plaintext>(handle: T): T => (owned.push(handle), handle);
    try {
      const coalition = track(new seal.Ciphertext());
      models.forEach((w, index) => {
        const weight = track(this.ctx.encodeConstant((lambda * sampleCounts[index]) / total, { scale: q3 }));
        const term = track(new seal.Ciphertext());
        sealCall("weight a coalition member", () => evaluator.multiplyPlain(w, weight, term));
        if (index === 0) coalition.assign(term);
        else sealCall("add a coalition member", () => evaluator.addInplace(coalition, term));
      });
      sealCall("rescale a coalition model", () => evaluator.rescaleToNextInplace(coalition));
      this.diagonalsAtLevel1 ??= this.encodeDiagonals(q2, coalition);
      const z = track(this.bsgs(coalition, this.diagonalsAtLevel1));
      const gram = track(new seal.Ciphertext());
      sealCall("square a coalition projection", () => {
        evaluator.square(z, gram);
        evaluator.relinearizeInplace(gram, this.keys.relinKeys);
        evaluator.rescaleToNextInplace(gram);
      });
      this.sumSlotsInplace(gram);
      const xty = track(
        this.ctx.encode(
          packModel(this.setup.xty, this.ctx.slotCount).map((v) => 2 * lambda * v),
          {
            scale: (this.ctx.scale * q2) / q1,
            levelOf: coalition,
          },
        ),
      );
      const bias = track(new seal.Ciphertext());
      sealCall("weight a coalition model by XᵀY", () => {
        evaluator.multiplyPlain(coalition, xty, bias);
        evaluator.rescaleToNextInplace(bias);
      });
      this.sumSlotsInplace(bias);
      sealCall("switch the coalition bias term down a level", () => evaluator.cipherModSwitchToNextInplace(bias));
      bias.setScale(sameScale(bias.scale(), gram.scale()));
      const utility = new seal.Ciphertext();
      try {
        sealCall("combine the coalition utility", () => evaluator.sub(bias, gram, utility));
        const constant = track(
          this.ctx.encodeConstant(-this.setup.yNormSquared / this.setup.normalizer, {
            scale: utility.scale(),
            levelOf: utility,
          }),
        );
        sealCall("add the coalition utility constant", () => evaluator.addPlainInplace(utility, constant));
        return utility;
      } catch (error) {
        utility.delete();
        throw error;
      }
    } finally {
      deleteAll(...owned);
    }
  }

  sumSlotsInplace(ct: Ciphertext): void {
    sumSlotsInplace(this.ctx, this.keys.galoisKeys, ct);
  }

  /** Frees every cached plaintext (diagonals, XᵀY). */
  dispose(): void {
    for (const set of [this.diagonalsAtTop, this.diagonalsAtLevel1]) if (set) deleteAll(...set.flat());
    this.diagonalsAtTop = this.diagonalsAtLevel1 = undefined;
    deleteAll(this.xtyForBias, ...this.units.values());
    this.xtyForBias = undefined;
    this.units.clear();
  }

  /** J at the level of `ciphertext` (size 2), built once per level. */
  private unitAt(ciphertext: Ciphertext): Plaintext {
    const level = ciphertext.coeffModulusSize();
    let unit = this.units.get(level);
    if (!unit) {
      unit = imaginaryUnit(this.ctx, ciphertext);
      this.units.set(level, unit);
    }
    return unit;
  }

  private requireMap(): CoefficientMap {
    if (!this.setup.map) throw new CkksError("This evaluator was set up without a coefficient map.");
    return this.setup.map;
  }

  private projectionDiagonals(): Plaintext[][] {
    this.diagonalsAtTop ??= this.encodeDiagonals(this.rescalePrimes.top, undefined);
    return this.diagonalsAtTop;
  }

  private encodeDiagonals(scale: number, levelOf: Ciphertext | undefined): Plaintext[][] {
    const out: Plaintext[][] = [];
    try {
      for (const giant of this.plan.giants) {
        out.push([]);
        for (const diagonal of giant.diagonals)
          out[out.length - 1].push(this.ctx.encode(diagonal.values, { scale, levelOf }));
      }
      return out;
    } catch (error) {
      deleteAll(...out.flat());
      throw error;
    }
  }

  private schedule(step: number): readonly number[] {
    const schedule = this.schedules.get(step);
    if (!schedule) throw new CkksError("Internal: a projection step outside the plan.", { details: `step ${step}` });
    return schedule;
  }

  private bsgs(w: Ciphertext, diagonals: Plaintext[][]): Ciphertext {
    const { evaluator, seal } = this.ctx;
    const { c } = this.plan;
    const babies = new Map<number, Ciphertext>();
    const product = new seal.Ciphertext();
    const inner = new seal.Ciphertext();
    const result = new seal.Ciphertext();
    let started = false;
    try {
      this.plan.giants.forEach((giant, g) => {
        let innerStarted = false;
        giant.diagonals.forEach((diagonal, index) => {
          let rotated = diagonal.baby === 0 ? w : babies.get(diagonal.baby);
          if (!rotated) {
            const fresh = new seal.Ciphertext();
            babies.set(diagonal.baby, fresh);
            const step = c * diagonal.baby;
            sealCall(`rotate a model (baby step ${step})`, () =>
              rotateComposed(this.ctx, this.keys.galoisKeys, this.schedule(step), w, fresh),
            );
            rotated = fresh;
          }
          const source = rotated;
          sealCall("multiply by a diagonal", () => {
            if (!innerStarted) evaluator.multiplyPlain(source, diagonals[g][index], inner);
            else {
              evaluator.multiplyPlain(source, diagonals[g][index], product);
              evaluator.addInplace(inner, product);
            }
          });
          innerStarted = true;
        });
        if (giant.giant > 0) {
          const step = c * this.plan.babySize * giant.giant;
          sealCall(`rotate a partial sum (giant step ${step})`, () =>
            rotateComposed(this.ctx, this.keys.galoisKeys, this.schedule(step), inner, inner),
          );
        }
        sealCall("accumulate a giant step", () => {
          if (!started) result.assign(inner);
          else evaluator.addInplace(result, inner);
        });
        started = true;
      });
      if (!started) throw new InvalidInputError("R has no non-zero entries: the validation set X is all zeros.");
      sealCall("rescale a projection", () => evaluator.rescaleToNextInplace(result));
      return result;
    } catch (error) {
      result.delete();
      throw error;
    } finally {
      deleteAll(product, inner, ...babies.values());
    }
  }
}

/** Data primes q0..q_L of the context (SEAL rescales drop them from the end), as doubles like SEAL uses. */
function dataPrimes(ctx: CkksContext): number[] {
  const data = ctx.context.firstContextData();
  const parms = data.parms();
  const vector = parms.coeffModulus();
  try {
    return (ctx.seal.jsArrayFromVecModulus(vector) as bigint[]).map((prime) => Number(prime));
  } finally {
    deleteAll(vector, parms, data);
  }
}

/**
 * Two paths to the same level carry the same mathematical scale but may differ in the last bits of the
 * double SEAL stores; SEAL refuses to add them. Snap to the expected value, refusing a real mismatch.
 */
function sameScale(actual: number, expected: number): number {
  if (Math.abs(actual / expected - 1) > 1e-12) {
    throw new CkksError("Internal scale mismatch in the encrypted Shapley computation.", {
      details: `2^${Math.log2(actual)} vs 2^${Math.log2(expected)}`,
    });
  }
  return expected;
}
