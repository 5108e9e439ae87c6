import { InvalidInputError } from "@ciphershare/protocol/errors";

/** Nodes and weights of a quadrature rule: ∫ f ≈ Σ_i weights[i]·f(nodes[i]). */
export interface GaussLegendreRule {
  /** Nodes y_i in (0, 1), ascending. */
  readonly nodes: Float64Array;
  /** 1 − y_i, computed without cancellation (the nodes cluster at both ends). */
  readonly complements: Float64Array;
  /** Positive weights summing to 1. */
  readonly weights: Float64Array;
}

/**
 * The q-point Gauss–Legendre rule on [0, 1], exact for polynomials of degree ≤ 2q − 1.
 *
 * Newton's method on P_q(cos θ) in the angle θ (Tricomi's initial guesses), because y = sin²(θ/2) and
 * 1 − y = cos²(θ/2) then keep full relative precision next to both ends, where x = cos θ would not.
 */
export function gaussLegendre(q: number): GaussLegendreRule {
  if (!Number.isInteger(q) || q < 1) {
    throw new InvalidInputError("A Gauss–Legendre rule needs a positive whole number of nodes.", {
      details: `q = ${q}`,
    });
  }
  const nodes = new Float64Array(q);
  const complements = new Float64Array(q);
  const weights = new Float64Array(q);
  // Legendre P_q(x) and P_{q−1}(x) by the three-term recurrence.
  const legendre = (x: number): [number, number] => {
    let previous = 1;
    let current = x;
    for (let k = 2; k <= q; k++) {
      const next = ((2 * k - 1) * x * current - (k - 1) * previous) / k;
      previous = current;
      current = next;
    }
    return q === 1 ? [x, 1] : [current, previous];
  };
  for (let i = 0; i < q; i++) {
    // Root i of P_q counted from x = 1 (θ small): its node y = sin²(θ/2) is the i-th smallest.
    let theta = (Math.PI * (i + 0.75)) / (q + 0.5);
    for (let iteration = 0; iteration < 100; iteration++) {
      const x = Math.cos(theta);
      const [p, previous] = legendre(x);
      const sin = Math.sin(theta);
      // dP_q/dθ = −sin θ · P_q'(x), with P_q'(x) = q (P_{q−1} − x P_q) / sin²θ.
      const step = (p * sin) / (q * (previous - x * p));
      theta += step;
      if (Math.abs(step) <= 1e-16 * theta) break;
    }
    const x = Math.cos(theta);
    const [p, previous] = legendre(x);
    const sin = Math.sin(theta);
    const derivative = (q * (previous - x * p)) / (sin * sin);
    nodes[i] = Math.sin(theta / 2) ** 2;
    complements[i] = Math.cos(theta / 2) ** 2;
    weights[i] = 1 / (sin * sin * derivative * derivative);
  }
  return { nodes, complements, weights };
}

/** Nodes and weights of `laplaceRule`: Σ_a weights[a]·e^{−t_a·M} ≈ M^{−p}. */
export interface LaplaceRule {
  readonly nodes: Float64Array;
  /** p = 1: Σ_a weights1[a]·e^{−t_a M} ≈ 1/M. */
  readonly weights1: Float64Array;
  /** p = 2: Σ_a weights2[a]·e^{−t_a M} ≈ 1/M². */
  readonly weights2: Float64Array;
}

/**
 * Step and shape of the trapezoid rule in u for M^{−p} = (1/Γ(p)) ∫₀^∞ t^{p−1} e^{−tM} dt with
 * t = exp(u − e^{−(u − u₀)}). The inner exponential makes the integrand vanish doubly exponentially as
 * u → −∞ (plain t = e^u decays only like e^{pu}, which costs 41 extra units of u for p = 1), while
 * leaving e^{−tM} analytic in a strip wide enough for step 0.22. Measured over M ∈ [10⁻¹², 1] on a grid
 * of 0.004 in log M: max relative error 1.6e-15 (p = 1 and 2) — the rounding of e^{−tM} itself.
 */
const LAPLACE_STEP = 0.22;
const LAPLACE_KINK = -1.5;
const LAPLACE_START = -6;
/**
 * Beyond tM = 45 the tail ∫_{t>45/M} t^{p}e^{−tM} dt is below 3e-17 of the whole (p ≤ 2, one extra
 * power of t for the (1 − e^{−t m_k}) factors): a client whose e^{−t m} is below e^{−45} no longer counts.
 */
export const NEGLIGIBLE_EXPONENT = 45;

/**
 * A rule for every rate M ∈ [minRate, 1] at once (relative error ≈ 1e-15, uniformly in M): the nodes
 * span u ∈ [−6, log(45/minRate)], so their number grows like log(1/minRate)/0.22 (71 for
 * minRate = 1/300, 129 for 1e-8).
 */
export function laplaceRule(minRate: number): LaplaceRule {
  if (!(minRate > 0 && minRate <= 1)) {
    throw new InvalidInputError("The smallest rate of a Laplace rule must lie in (0, 1].", {
      details: `minRate = ${minRate}`,
    });
  }
  const end = Math.log(NEGLIGIBLE_EXPONENT / minRate);
  const count = Math.floor((end - LAPLACE_START) / LAPLACE_STEP) + 1;
  const nodes = new Float64Array(count);
  const weights1 = new Float64Array(count);
  const weights2 = new Float64Array(count);
  for (let a = 0; a < count; a++) {
    const u = LAPLACE_START + a * LAPLACE_STEP;
    const inner = Math.exp(-(u - LAPLACE_KINK));
    const t = Math.exp(u - inner);
    nodes[a] = t;
    weights1[a] = LAPLACE_STEP * t * (1 + inner);
    weights2[a] = weights1[a] * t;
  }
  return { nodes, weights1, weights2 };
}
