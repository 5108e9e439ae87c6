import { matrix, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import { seededRandom } from "../../support/ckks";
import type { ValuationProblem } from "@ciphershare/coprocessor/shapley/utility";

export interface ProblemShape {
  n: number;
  d: number;
  c: number;
  rows: number;
  seed: number;
}

/** A random valuation problem whose client models are noisy variants of a common "true" model. */
export function randomProblem({ n, d, c, rows, seed }: ProblemShape): ValuationProblem {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const fill = (r: number, k: number, f: () => number): Matrix => matrix(r, k, Array.from({ length: r * k }, f));
  const x = fill(rows, d, gaussian);
  const truth = fill(d, c, gaussian);
  const y = fill(rows, c, () => 0);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < c; o++) {
      let v = 0.1 * gaussian();
      for (let k = 0; k < d; k++) v += x.data[r * d + k] * truth.data[k * c + o];
      y.data[r * c + o] = v;
    }
  const models = Array.from({ length: n }, (_, i) => {
    const noise = 0.2 + (i % 3) * 0.5;
    return fill(d, c, () => 0).data.map((_, k) => truth.data[k] + noise * gaussian());
  }).map((data) => matrix(d, c, data));
  const sampleCounts = Array.from({ length: n }, () => 1 + Math.floor(random() * 100));
  return { base: fill(d, c, () => 0), models, sampleCounts, x, y };
}
