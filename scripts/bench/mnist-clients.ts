/** MNIST-shaped valuation data for the Shapley benchmark: d = 784 pixels + bias, c = 10 one-hot. */
import { createRequire } from "node:module";
import { matrix, type Matrix } from "../../coprocessor/src/shapley/matrix";

interface MnistDigit {
  get(index: number): number[];
  length: number;
}
const mnist = createRequire(__filename)("mnist") as Record<number, MnistDigit>;

export const D = 785;
export const C = 10;
export const VALIDATION_PER_DIGIT = 100;

function sample(digit: number, index: number): { input: number[]; target: number[] } {
  const input = [...mnist[digit].get(index), 1];
  const target = new Array<number>(C).fill(0);
  target[digit] = 1;
  return { input, target };
}

export function validationSet(): { x: Matrix; y: Matrix } {
  const rows = Array.from({ length: C * VALIDATION_PER_DIGIT }, (_, r) =>
    sample(r % C, VALIDATION_PER_DIGIT + Math.floor(r / C)),
  );
  return {
    x: matrix(
      rows.length,
      D,
      rows.flatMap((row) => row.input),
    ),
    y: matrix(
      rows.length,
      C,
      rows.flatMap((row) => row.target),
    ),
  };
}

/** Deterministic pseudo-random stream so the benchmark is reproducible. */
function stream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Non-IID clients: client i's data is mostly two digits, sizes 60–300; every 7th client flips its labels
 * (a poisoned update) and every 11th submits the base model unchanged (a free rider). Each trains 30
 * steps of least-squares gradient descent from the base model w0 = 0.
 */
export function clients(n: number): { models: Matrix[]; sampleCounts: number[] } {
  const random = stream(1234 + n);
  const models: Matrix[] = [];
  const sampleCounts: number[] = [];
  const offsets = new Array<number>(C).fill(2 * VALIDATION_PER_DIGIT + 1);
  for (let i = 0; i < n; i++) {
    const count = 60 + Math.floor(random() * 240);
    sampleCounts.push(count);
    if (i % 11 === 10) {
      models.push(matrix(D, C));
      continue;
    }
    const favourites = [i % C, (i * 3 + 1) % C];
    const data = Array.from({ length: count }, () => {
      const digit = random() < 0.8 ? favourites[Math.floor(random() * 2)] : Math.floor(random() * C);
      const index = offsets[digit]++ % mnist[digit].length;
      const { input, target } = sample(digit, index);
      return { input, target: i % 7 === 6 ? [...target.slice(1), target[0]] : target };
    });
    const w = new Float64Array(D * C);
    const gradient = new Float64Array(D * C);
    const learningRate = 0.01;
    for (let step = 0; step < 30; step++) {
      gradient.fill(0);
      for (const { input, target } of data) {
        const residual = new Float64Array(C);
        for (let k = 0; k < D; k++) {
          const v = input[k];
          if (v === 0) continue;
          for (let o = 0; o < C; o++) residual[o] += v * w[k * C + o];
        }
        for (let o = 0; o < C; o++) residual[o] -= target[o];
        for (let k = 0; k < D; k++) {
          const v = input[k];
          if (v === 0) continue;
          for (let o = 0; o < C; o++) gradient[k * C + o] += v * residual[o];
        }
      }
      for (let k = 0; k < w.length; k++) w[k] -= (learningRate * gradient[k]) / count;
    }
    models.push(matrix(D, C, w));
  }
  return { models, sampleCounts };
}
