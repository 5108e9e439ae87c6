import { InvalidInputError } from "@ciphershare/protocol/errors";
import { biasIndex, entryCount, pairIndex } from "./gram";
import {
  gaussLegendre,
  laplaceRule,
  NEGLIGIBLE_EXPONENT,
  type GaussLegendreRule,
  type LaplaceRule,
} from "./quadrature";
import { assertSampleCounts } from "./utility";

/**
 * The exact Shapley coefficient map A (n × entries, row-major, φ = A·x + constant) by the integral form:
 * no coalition is enumerated, so it serves hundreds of clients. Pure function of the public sample
 * counts and n_v·c; docs/shapley.md derives it.
 *
 * Every coefficient is q_p·μ_p times a sum over coalitions S ⊇ T (|T| ≤ 3) of a Shapley weight of |S|
 * over M_S^p (p = 2 for G_ij, 1 for b_i). Two integrals turn those sums into products over clients:
 * 1/M^p = (1/Γ(p))∫₀^∞ t^{p−1}e^{−tM}dt (e^{−tM_S} = Π_{j∈S} x_j with x_j = e^{−t m_j}) and the Beta
 * integrals of the weights, ∫₀¹ y^{s−1}(1−y)^{n−s}dy and ∫₀¹ y^s(1−y)^{n−s−1}dy. With f_j = 1 − y + y·x_j,
 * F = Π_j f_j, g_j = 1/f_j and a_j = 1 − x_j, every entry is one of
 *
 *   pair (i<j), k ∉ {i,j}:  −q μ ∫ t x_i x_j a_k ∫ y² F g_i g_j g_k        ("triple")
 *   pair (i<j), k ∈ {i,j}:   q μ ∫ t x_i x_j     ∫ y  F g_i g_j             ("pair")
 *   pair (i,i), k ≠ i:      −q μ ∫ t x_i a_k     ∫ y  F g_i g_k             ("outsider", p = 2)
 *   pair (i,i), k = i:       q μ ∫ t x_i         ∫    F g_i                  ("self", p = 2)
 *   bias i,     k ≠ i:      −q μ ∫   x_i a_k     ∫ y  F g_i g_k             ("outsider", p = 1)
 *   bias i,     k = i:       q μ ∫   x_i         ∫    F g_i                  ("self", p = 1)
 *
 * (outer integrals over t ∈ (0, ∞), inner over y ∈ [0, 1]). The in-coalition and out-of-coalition
 * sums of the subset form merge into one integrand of fixed sign, so nothing cancels. For fixed t each
 * y-integrand is a polynomial of degree n − 1, which the ⌈n/2⌉-point Gauss–Legendre rule integrates
 * exactly; the t-integral uses `laplaceRule` (relative error ≈ 1e-15 for every M_S). The map is thus the
 * exact Shapley map of the game with each 1/M_S^p perturbed by ≈ 1e-15 relative: symmetric and
 * null-player by construction, efficient up to that perturbation.
 *
 * Cost: for each t-node the inner sums ∫ y² F g_i g_j g_k over the clients still alive (e^{−t m} not
 * negligible), i.e. at most n³/6 dot products of length ⌈n/2⌉ per node; about 20 s at n = 300 on one
 * core, growing like n⁴. Memory: 3·C(n, 3) accumulators besides the n³/2 entries of A. Counts are scaled
 * to sum to 1 (μ_p/M_S^p does not change) and sorted, so the alive clients are a prefix.
 */
export function integralCoefficientRows(sampleCounts: readonly number[], normalizer: number): Float64Array {
  assertSampleCounts(sampleCounts);
  if (!(normalizer > 0)) {
    throw new InvalidInputError("The utility normaliser n_v·c must be positive.", { details: `${normalizer}` });
  }
  const n = sampleCounts.length;
  const total = sampleCounts.reduce((sum, m) => sum + m, 0);
  if (!Number.isFinite(total)) {
    throw new InvalidInputError("The total sample count overflows.", { details: `Σ m = ${total}` });
  }
  // Sorted by count, ascending: as t grows the large counts become negligible first, from the end.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => sampleCounts[i] - sampleCounts[j]);
  const m = Float64Array.from(order, (i) => sampleCounts[i] / total);

  const sums = new IntegralSums(m);
  sums.run();
  return sums.assemble(order, normalizer);
}

/** Below this a y-node's weight ω·y^r·F only adds rounding noise (and subnormal slowdowns). */
const NEGLIGIBLE_NODE_WEIGHT = 1e-200;

/** The accumulated t-integrals, in sorted client order (see `integralCoefficientRows`). */
class IntegralSums {
  private readonly n: number;
  private readonly yRule: GaussLegendreRule;
  private readonly tRule: LaplaceRule;
  /** "self" sums per client i, for p = 1 and p = 2. */
  private readonly self1: Float64Array;
  private readonly self2: Float64Array;
  /** "pair" sums, at i·n + j for i < j. */
  private readonly pair: Float64Array;
  /** "outsider" sums (client i inside, k outside), at i·n + k, for p = 1 and p = 2. */
  private readonly outsider1: Float64Array;
  private readonly outsider2: Float64Array;
  /**
   * "triple" sums for i < j < k, three per triple (outsider k, j, i), at 3·(tripleStart[i·n + j] + k − j − 1).
   */
  private readonly triple: Float64Array;
  private readonly tripleStart: Uint32Array;

  // Per t-node scratch: the client factors and the y-nodes kept.
  private readonly x: Float64Array;
  private readonly a: Float64Array;
  /** g_l(y_b) = 1/f_l(y_b), client-major: row l holds the kept y-nodes. */
  private readonly g: Float64Array;
  /** y-weights c_r = ω·y^r·F of the kept y-nodes, r = 0, 1, 2. */
  private readonly c0: Float64Array;
  private readonly c1: Float64Array;
  private readonly c2: Float64Array;
  /** 1/(1 − y_b): g of every client whose x has become negligible. */
  private readonly gNegligible: Float64Array;
  /** c·g_i·g_j of the pair (or two pairs) whose sums are being formed. */
  private readonly product: Float64Array;
  private readonly product2: Float64Array;

  constructor(private readonly m: Float64Array) {
    const n = m.length;
    this.n = n;
    this.yRule = gaussLegendre(Math.ceil(n / 2));
    this.tRule = laplaceRule(m[0]);
    this.self1 = new Float64Array(n);
    this.self2 = new Float64Array(n);
    this.pair = new Float64Array(n * n);
    this.outsider1 = new Float64Array(n * n);
    this.outsider2 = new Float64Array(n * n);
    this.tripleStart = new Uint32Array(n * n);
    let start = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        this.tripleStart[i * n + j] = start;
        start += n - j - 1;
      }
    }
    this.triple = new Float64Array(3 * start);
    const q = this.yRule.nodes.length;
    this.x = new Float64Array(n);
    this.a = new Float64Array(n);
    this.g = new Float64Array(n * q);
    this.c0 = new Float64Array(q);
    this.c1 = new Float64Array(q);
    this.c2 = new Float64Array(q);
    this.gNegligible = new Float64Array(q);
    this.product = new Float64Array(q);
    this.product2 = new Float64Array(q);
  }

  run(): void {
    const { nodes, weights1, weights2 } = this.tRule;
    for (let node = 0; node < nodes.length; node++) this.addNode(nodes[node], weights1[node], weights2[node]);
  }

  /** Adds one t-node's contribution (weights τ1 for p = 1, τ2 for p = 2) to every sum. */
  private addNode(t: number, tau1: number, tau2: number): void {
    const { n, m, x, a } = this;
    let alive = 0;
    for (let l = 0; l < n; l++) {
      const exponent = t * m[l];
      if (exponent <= NEGLIGIBLE_EXPONENT) {
        x[l] = Math.exp(-exponent);
        a[l] = -Math.expm1(-exponent);
        alive = l + 1;
      } else {
        x[l] = 0;
        a[l] = 1;
      }
    }
    if (alive === 0) return;
    const kept = this.prepareY(alive);
    if (kept === 0) return;
    this.addSingles(alive, kept, tau1, tau2);
    this.addPairs(alive, kept, tau1, tau2);
    this.addTriples(alive, kept, tau2);
  }

  /**
   * Fills g (alive clients) and the y-weights c_r = ω·y^r·F for the y-nodes whose weight is not
   * negligible; returns how many were kept. F is summed in logs: it underflows for large n.
   */
  private prepareY(alive: number): number {
    const { n, x, g, c0, c1, c2, gNegligible } = this;
    const { nodes, complements, weights } = this.yRule;
    const q = nodes.length;
    let kept = 0;
    for (let b = 0; b < q; b++) {
      const y = nodes[b];
      const complement = complements[b];
      let logF = (n - alive) * Math.log(complement);
      for (let l = 0; l < alive; l++) logF += Math.log(complement + y * x[l]);
      const weight = weights[b] * Math.exp(logF);
      if (weight < NEGLIGIBLE_NODE_WEIGHT) continue;
      c0[kept] = weight;
      c1[kept] = weight * y;
      c2[kept] = weight * y * y;
      gNegligible[kept] = 1 / complement;
      for (let l = 0; l < alive; l++) g[l * q + kept] = 1 / (complement + y * x[l]);
      kept++;
    }
    return kept;
  }

  /** "self" sums: ∫ F g_i over y. */
  private addSingles(alive: number, kept: number, tau1: number, tau2: number): void {
    const { g, c0, x } = this;
    const q = this.yRule.nodes.length;
    for (let i = 0; i < alive; i++) {
      const row = i * q;
      let sum = 0;
      for (let b = 0; b < kept; b++) sum += c0[b] * g[row + b];
      this.self1[i] += tau1 * x[i] * sum;
      this.self2[i] += tau2 * x[i] * sum;
    }
  }

  /** "pair" and "outsider" sums: ∫ y F g_i g_j over y, for i alive and j any other client. */
  private addPairs(alive: number, kept: number, tau1: number, tau2: number): void {
    const { n, g, c1, x, a, gNegligible, product } = this;
    const q = this.yRule.nodes.length;
    for (let i = 0; i < alive; i++) {
      const row = i * q;
      for (let b = 0; b < kept; b++) product[b] = c1[b] * g[row + b];
      for (let j = i + 1; j < alive; j++) {
        const other = j * q;
        let sum = 0;
        for (let b = 0; b < kept; b++) sum += product[b] * g[other + b];
        this.pair[i * n + j] += tau2 * x[i] * x[j] * sum;
        this.outsider2[i * n + j] += tau2 * x[i] * a[j] * sum;
        this.outsider2[j * n + i] += tau2 * x[j] * a[i] * sum;
        this.outsider1[i * n + j] += tau1 * x[i] * a[j] * sum;
        this.outsider1[j * n + i] += tau1 * x[j] * a[i] * sum;
      }
      // Every negligible client k has g_k = 1/(1 − y) and a_k = 1: one sum serves them all.
      if (alive < n) {
        let sum = 0;
        for (let b = 0; b < kept; b++) sum += product[b] * gNegligible[b];
        for (let k = alive; k < n; k++) {
          this.outsider2[i * n + k] += tau2 * x[i] * sum;
          this.outsider1[i * n + k] += tau1 * x[i] * sum;
        }
      }
    }
  }

  /** "triple" sums: ∫ y² F g_i g_j g_k over y, for i < j alive and k > j any client. */
  private addTriples(alive: number, kept: number, tau2: number): void {
    for (let i = 0; i < alive; i++) {
      let j = i + 1;
      for (; j + 1 < alive; j += 2) this.addTwoPairs(i, j, alive, kept, tau2);
      if (j < alive) this.addOnePair(i, j, alive, kept, tau2);
    }
  }

  /**
   * The triples of pairs (i, j) and (i, j + 1) together: each g_k row loaded serves both (eight running
   * sums, four rows k at a time), 1.4× faster than one pair at a time at n = 200.
   */
  private addTwoPairs(i: number, j: number, alive: number, kept: number, tau2: number): void {
    const { n, g, c2, x, product, product2, tripleStart } = this;
    const q = this.yRule.nodes.length;
    const rowI = i * q;
    const rowJ = j * q;
    const rowNext = rowJ + q;
    for (let b = 0; b < kept; b++) {
      const ci = c2[b] * g[rowI + b];
      product[b] = ci * g[rowJ + b];
      product2[b] = ci * g[rowNext + b];
    }
    const xij = tau2 * x[i] * x[j];
    const xiNext = tau2 * x[i] * x[j + 1];
    const start = 3 * (tripleStart[i * n + j] - j - 1);
    const startNext = 3 * (tripleStart[i * n + j + 1] - j - 2);
    // k = j + 1 is a triple of (i, j) only.
    let sum = 0;
    for (let b = 0; b < kept; b++) sum += product[b] * g[rowNext + b];
    this.addTriple(start + 3 * (j + 1), xij, i, j, j + 1, sum, tau2);
    let k = j + 2;
    for (; k + 3 < alive; k += 4) {
      const r0 = k * q;
      const r1 = r0 + q;
      const r2 = r1 + q;
      const r3 = r2 + q;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let b = 0; b < kept; b++) {
        const p = product[b];
        const pNext = product2[b];
        const g0 = g[r0 + b];
        const g1 = g[r1 + b];
        const g2 = g[r2 + b];
        const g3 = g[r3 + b];
        s0 += p * g0;
        s1 += p * g1;
        s2 += p * g2;
        s3 += p * g3;
        t0 += pNext * g0;
        t1 += pNext * g1;
        t2 += pNext * g2;
        t3 += pNext * g3;
      }
      this.addTriple(start + 3 * k, xij, i, j, k, s0, tau2);
      this.addTriple(start + 3 * (k + 1), xij, i, j, k + 1, s1, tau2);
      this.addTriple(start + 3 * (k + 2), xij, i, j, k + 2, s2, tau2);
      this.addTriple(start + 3 * (k + 3), xij, i, j, k + 3, s3, tau2);
      this.addTriple(startNext + 3 * k, xiNext, i, j + 1, k, t0, tau2);
      this.addTriple(startNext + 3 * (k + 1), xiNext, i, j + 1, k + 1, t1, tau2);
      this.addTriple(startNext + 3 * (k + 2), xiNext, i, j + 1, k + 2, t2, tau2);
      this.addTriple(startNext + 3 * (k + 3), xiNext, i, j + 1, k + 3, t3, tau2);
    }
    for (; k < alive; k++) {
      const row = k * q;
      let s = 0;
      let t = 0;
      for (let b = 0; b < kept; b++) {
        s += product[b] * g[row + b];
        t += product2[b] * g[row + b];
      }
      this.addTriple(start + 3 * k, xij, i, j, k, s, tau2);
      this.addTriple(startNext + 3 * k, xiNext, i, j + 1, k, t, tau2);
    }
    this.addNegligibleTriples(start, xij, product, alive, kept);
    this.addNegligibleTriples(startNext, xiNext, product2, alive, kept);
  }

  /** The triples of pair (i, j) alone (the last alive j of a row). */
  private addOnePair(i: number, j: number, alive: number, kept: number, tau2: number): void {
    const { n, g, c2, x, product, tripleStart } = this;
    const q = this.yRule.nodes.length;
    const rowI = i * q;
    const rowJ = j * q;
    for (let b = 0; b < kept; b++) product[b] = c2[b] * g[rowI + b] * g[rowJ + b];
    const xij = tau2 * x[i] * x[j];
    const start = 3 * (tripleStart[i * n + j] - j - 1);
    for (let k = j + 1; k < alive; k++) {
      const row = k * q;
      let sum = 0;
      for (let b = 0; b < kept; b++) sum += product[b] * g[row + b];
      this.addTriple(start + 3 * k, xij, i, j, k, sum, tau2);
    }
    this.addNegligibleTriples(start, xij, product, alive, kept);
  }

  /** Every negligible client k has g_k = 1/(1 − y) and a_k = 1: one sum serves them all (outsider k only). */
  private addNegligibleTriples(start: number, xij: number, product: Float64Array, alive: number, kept: number): void {
    const { n, gNegligible, triple } = this;
    if (alive === n) return;
    let sum = 0;
    for (let b = 0; b < kept; b++) sum += product[b] * gNegligible[b];
    const contribution = xij * sum;
    for (let at = start + 3 * alive; at < start + 3 * n; at += 3) triple[at] += contribution;
  }

  private addTriple(at: number, xij: number, i: number, j: number, k: number, sum: number, tau2: number): void {
    const { x, a, triple } = this;
    triple[at] += xij * a[k] * sum;
    const xk = tau2 * x[k] * sum;
    triple[at + 1] += xk * x[i] * a[j];
    triple[at + 2] += xk * x[j] * a[i];
  }

  /** A in the original client order: n × entryCount(n). */
  assemble(order: readonly number[], normalizer: number): Float64Array {
    const { n, m } = this;
    const entries = entryCount(n);
    const rows = new Float64Array(n * entries);
    const pairScale = -1 / normalizer;
    const biasScale = 2 / normalizer;
    for (let i = 0; i < n; i++) {
      const oi = order[i];
      const diagonal = pairIndex(oi, oi, n);
      const bias = biasIndex(oi, n);
      const qDiagonal = pairScale * m[i] * m[i];
      const qBias = biasScale * m[i];
      rows[oi * entries + diagonal] = qDiagonal * this.self2[i];
      rows[oi * entries + bias] = qBias * this.self1[i];
      for (let k = 0; k < n; k++) {
        if (k === i) continue;
        const ok = order[k];
        rows[ok * entries + diagonal] = -qDiagonal * this.outsider2[i * n + k];
        rows[ok * entries + bias] = -qBias * this.outsider1[i * n + k];
      }
      for (let j = i + 1; j < n; j++) {
        const oj = order[j];
        const index = pairIndex(oi, oj, n);
        const q = 2 * pairScale * m[i] * m[j];
        const inside = q * this.pair[i * n + j];
        rows[oi * entries + index] = inside;
        rows[oj * entries + index] = inside;
      }
    }
    // Triples: entry (i, j) of outsider k, (i, k) of outsider j, (j, k) of outsider i.
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const start = 3 * this.tripleStart[i * n + j];
        for (let k = j + 1; k < n; k++) {
          const at = start + 3 * (k - j - 1);
          const [oi, oj, ok] = [order[i], order[j], order[k]];
          rows[ok * entries + pairIndex(oi, oj, n)] = -2 * pairScale * m[i] * m[j] * this.triple[at];
          rows[oj * entries + pairIndex(oi, ok, n)] = -2 * pairScale * m[i] * m[k] * this.triple[at + 1];
          rows[oi * entries + pairIndex(oj, ok, n)] = -2 * pairScale * m[j] * m[k] * this.triple[at + 2];
        }
      }
    }
    return rows;
  }
}
