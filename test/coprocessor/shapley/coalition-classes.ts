// Exact references for many clients, by enumerating coalitions up to symmetry: when clients come in a
// few "types" (same sample count, and for φ also the same model), a coalition matters only through how
// many members of each type it holds, so Π (count_type + 1) classes stand for all 2^n coalitions. They
// share no code with the integral form, the subset map or the Gram trick.
import { biasIndex, entryCount, pairIndex } from "@ciphershare/coprocessor/shapley/gram";
import { coalitionUtility, shapleyWeight, type ValuationProblem } from "@ciphershare/coprocessor/shapley/utility";

function binomial(n: number, k: number): number {
  let value = 1;
  for (let i = 1; i <= k; i++) value = (value * (n - k + i)) / i;
  return value;
}

/** Every multiplicity vector a with 0 ≤ a[type] ≤ pools[type]. */
function* multiplicities(pools: readonly number[]): Generator<number[]> {
  const a = new Array<number>(pools.length).fill(0);
  for (;;) {
    yield a;
    let kind = 0;
    while (kind < pools.length && a[kind] === pools[kind]) a[kind++] = 0;
    if (kind === pools.length) return;
    a[kind]++;
  }
}

/** Type of each client: the index of its sample count among the distinct ones. */
function typesOf(sampleCounts: readonly number[]): { values: number[]; typeOf: number[]; sizes: number[] } {
  const values = [...new Set(sampleCounts)];
  const typeOf = sampleCounts.map((m) => values.indexOf(m));
  const sizes = values.map((_, kind) => typeOf.filter((t) => t === kind).length);
  return { values, typeOf, sizes };
}

/**
 * The coefficient map A by direct summation over coalition classes, with every entry a sum of terms of
 * one sign (so it keeps its relative precision however small it is):
 *   k ∈ supp(p):  q_p μ_p Σ_{S ⊇ supp(p)} w_in(|S|)/M_S^e
 *   k ∉ supp(p):  q_p μ_p Σ_{S ⊇ supp(p), k ∉ S} w_out(|S|)·(1/(M_S + m_k)^e − 1/M_S^e)
 * (e = 2 for pairs, 1 for bias terms; w_in(s + 1) = w_out(s) turns "in − out" into the second line).
 */
export function classCoefficientRows(sampleCounts: readonly number[], normalizer: number): Float64Array {
  const n = sampleCounts.length;
  const { values, typeOf, sizes } = typesOf(sampleCounts);
  const entries = entryCount(n);
  const rows = new Float64Array(n * entries);
  const memo = new Map<string, number>();
  // Σ over coalitions S ⊇ members(fixed), S ∌ k (when outsider ≥ 0), of the kernel's value.
  const classSum = (fixed: readonly number[], outsider: number, exponent: number): number => {
    const fixedTypes = fixed.map((i) => typeOf[i]).sort();
    const key = `${fixedTypes.join(",")}|${outsider < 0 ? "-" : typeOf[outsider]}|${exponent}`;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    const pools = [...sizes];
    for (const i of fixed) pools[typeOf[i]]--;
    if (outsider >= 0) pools[typeOf[outsider]]--;
    const fixedTotal = fixed.reduce((sum, i) => sum + sampleCounts[i], 0);
    const mk = outsider >= 0 ? sampleCounts[outsider] : 0;
    let sum = 0;
    for (const a of multiplicities(pools)) {
      let count = 1;
      let size = fixed.length;
      let total = fixedTotal;
      a.forEach((extra, kind) => {
        count *= binomial(pools[kind], extra);
        size += extra;
        total += extra * values[kind];
      });
      if (outsider < 0) {
        sum += count * shapleyWeight(size - 1, n) * total ** -exponent;
      } else if (size < n) {
        const drop =
          exponent === 2 ? (mk * (2 * total + mk)) / (total * total * (total + mk) ** 2) : mk / (total * (total + mk));
        sum -= count * shapleyWeight(size, n) * drop;
      }
    }
    memo.set(key, sum);
    return sum;
  };
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const support = i === j ? [i] : [i, j];
        const q = (-(i === j ? 1 : 2) * sampleCounts[i] * sampleCounts[j]) / normalizer;
        rows[k * entries + pairIndex(i, j, n)] = q * classSum(support, support.includes(k) ? -1 : k, 2);
      }
      const q = (2 * sampleCounts[i]) / normalizer;
      rows[k * entries + biasIndex(i, n)] = q * classSum([i], i === k ? -1 : k, 1);
    }
  }
  return rows;
}

/**
 * φ of a problem whose clients come in types (equal model and sample count within a type), from explicit
 * coalition models and their losses (`coalitionUtility`), one per coalition class: the float64 reference
 * for n far beyond what `referenceShapley` can enumerate.
 */
export function classShapley(problem: ValuationProblem, typeOf: readonly number[]): number[] {
  const n = problem.models.length;
  const types = Math.max(...typeOf) + 1;
  const members = Array.from({ length: types }, (_, kind) => typeOf.flatMap((t, i) => (t === kind ? [i] : [])));
  const sizes = members.map((list) => list.length);
  const utility = new Map<string, number>();
  const utilityOf = (a: readonly number[]): number => {
    const key = a.join(",");
    let value = utility.get(key);
    if (value === undefined) {
      value = coalitionUtility(
        problem,
        a.flatMap((count, kind) => members[kind].slice(0, count)),
      );
      utility.set(key, value);
    }
    return value;
  };
  const phiOfType = members.map((_, kind) => {
    const pools = sizes.map((size, other) => size - (other === kind ? 1 : 0));
    let phi = 0;
    for (const a of multiplicities(pools)) {
      let count = 1;
      let size = 0;
      a.forEach((extra, other) => {
        count *= binomial(pools[other], extra);
        size += extra;
      });
      const withK = a.map((extra, other) => extra + (other === kind ? 1 : 0));
      phi += count * shapleyWeight(size, n) * (utilityOf(withK) - utilityOf(a));
    }
    return phi;
  });
  return typeOf.map((kind) => phiOfType[kind]);
}
