import { InvalidInputError } from "@ciphershare/protocol/errors";
import { SeededRandom } from "../random/seeded-random";
import { loadMnist, MNIST_PIXELS } from "./mnist";

/**
 * The usage demo's stand-in for a generative model and its attribution method (docs/usage.md): artist i's "style"
 * is an MNIST digit (`digits[i]`), its style embedding the mean of the centered, unit-length pixel vectors of half of that digit's
 * images; a "generation" is one of the other half's images, prompted in the style of a used artist, and its
 * attribution is a softmax (temperature T) of its cosine similarity to the style embeddings over its two closest
 * artists (Σ = 1, the program's cap). Artist `unused` is never prompted, and a generation whose two closest styles
 * include it is discarded as a failed prompt, so that artist's attribution is exactly 0.
 */
export interface UsageStream {
  readonly vectors: Float64Array[];
  /** The artist each generation was prompted in the style of. */
  readonly prompts: number[];
  /** Failed prompts: generations discarded because they resembled the unused artist. */
  readonly discarded: number;
}

export function mnistUsageStream(options: {
  artists: number;
  unused: number;
  generations: number;
  seed: number;
  temperature?: number;
  /** How often each used artist is prompted, relative (default: equally; the unused artist's entry is ignored). */
  popularity?: readonly number[];
  /** The digit of each artist's style (default: artist i is digit i). */
  digits?: readonly number[];
}): UsageStream {
  const { artists, unused, generations } = options;
  if (!Number.isInteger(artists) || artists < 2 || artists > 10 || unused < 0 || unused >= artists) {
    throw new InvalidInputError("The usage stream needs 2–10 artists (digits) and an unused artist among them.", {
      details: `artists ${artists}, unused ${unused}`,
    });
  }
  const temperature = options.temperature ?? 0.05;
  const mnist = loadMnist();
  const embed = (row: number): Float64Array => {
    const pixels = mnist.features.subarray(row * mnist.dimension, row * mnist.dimension + MNIST_PIXELS);
    let mean = 0;
    for (const p of pixels) mean += p;
    mean /= MNIST_PIXELS;
    const v = Float64Array.from(pixels, (p) => p - mean);
    return unit(v);
  };
  const digits = options.digits ?? [...Array(artists).keys()];
  const rowsOf = (digit: number) => Array.from(mnist.labels.keys()).filter((row) => mnist.labels[row] === digit);
  const styles: Float64Array[] = [];
  const pools: number[][] = [];
  for (let artist = 0; artist < artists; artist++) {
    const rows = rowsOf(digits[artist]);
    const half = Math.floor(rows.length / 2);
    const style = new Float64Array(MNIST_PIXELS);
    for (const row of rows.slice(0, half)) embed(row).forEach((x, i) => (style[i] += x));
    styles.push(unit(style));
    pools.push(rows.slice(half));
  }
  const random = new SeededRandom(options.seed);
  const used = [...Array(artists).keys()].filter((a) => a !== unused);
  const weights = used.map((a) => options.popularity?.[a] ?? 1);
  const totalWeight = weights.reduce((x, y) => x + y, 0);
  const pick = (u: number): number => {
    let acc = 0;
    for (const [k, a] of used.entries()) {
      acc += weights[k] / totalWeight;
      if (u < acc) return a;
    }
    return used[used.length - 1];
  };
  const vectors: Float64Array[] = [];
  const prompts: number[] = [];
  let discarded = 0;
  while (vectors.length < generations) {
    const prompt = pick(random.nextFloat());
    const pool = pools[prompt];
    const e = embed(pool[random.nextInt(pool.length)]);
    const similarity = styles.map((s) => s.reduce((sum, x, i) => sum + x * e[i], 0));
    const [first, second] = [...similarity.keys()].sort((a, b) => similarity[b] - similarity[a]);
    if (first === unused || second === unused) {
      discarded++;
      continue;
    }
    const a = Math.exp(similarity[first] / temperature);
    const b = Math.exp(similarity[second] / temperature);
    const vector = new Float64Array(artists);
    vector[first] = a / (a + b);
    vector[second] = b / (a + b);
    vectors.push(vector);
    prompts.push(prompt);
  }
  return { vectors, prompts, discarded };
}

function unit(v: Float64Array): Float64Array {
  let squares = 0;
  for (const x of v) squares += x * x;
  const norm = Math.sqrt(squares) || 1;
  return v.map((x) => x / norm);
}
