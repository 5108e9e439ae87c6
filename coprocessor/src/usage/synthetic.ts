import { SeededRandom } from "../random/seeded-random";

/**
 * Deterministic stand-in attributions for benchmarks and tests: each generation draws a Dirichlet(α) vector over
 * the contributors (contributors listed in `unused` get none, the rest renormalized) scaled by a mass in [½, 1], so
 * every vector is valid under a cap of 1.
 */
export function syntheticAttributions(
  generations: number,
  contributors: number,
  options: { seed: number; alpha?: number; unused?: readonly number[] },
): Float64Array[] {
  const random = new SeededRandom(options.seed);
  const unused = new Set(options.unused ?? []);
  return Array.from({ length: generations }, () => {
    const draw = random.nextDirichlet(contributors, options.alpha ?? 0.5);
    const vector = Float64Array.from(draw, (v, i) => (unused.has(i) ? 0 : v));
    const sum = vector.reduce((a, b) => a + b, 0);
    const mass = 0.5 + 0.5 * random.nextFloat();
    return vector.map((v) => (sum > 0 ? (v / sum) * mass : 0));
  });
}
