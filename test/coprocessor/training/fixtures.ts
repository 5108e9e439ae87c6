import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { SeededRandom } from "@ciphershare/coprocessor/random/seeded-random";

/** n rows of d Gaussian features and one-hot labels from a noisy linear teacher (c classes). */
export function syntheticRows(
  rows: number,
  features: number,
  outputs: number,
  seed: number,
  options: { randomLabels?: boolean } = {},
): { x: Matrix; y: Matrix } {
  const random = new SeededRandom(seed);
  const teacher = new SeededRandom(1234);
  const w = Array.from({ length: features * outputs }, () => teacher.nextNormal());
  const x = new Float64Array(rows * features);
  const y = new Float64Array(rows * outputs);
  for (let r = 0; r < rows; r++) {
    const scores = new Float64Array(outputs);
    for (let j = 0; j < features; j++) {
      const v = random.nextNormal();
      x[r * features + j] = v;
      for (let k = 0; k < outputs; k++) scores[k] += v * w[j * outputs + k];
    }
    for (let k = 0; k < outputs; k++) scores[k] += 0.5 * random.nextNormal();
    let label = 0;
    for (let k = 1; k < outputs; k++) if (scores[k] > scores[label]) label = k;
    if (options.randomLabels) label = random.nextInt(outputs);
    y[r * outputs + label] = 1;
  }
  return { x: { rows, cols: features, data: x }, y: { rows, cols: outputs, data: y } };
}
