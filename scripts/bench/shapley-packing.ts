/**
 * Side-by-side cost of one Gram entry's term on the encrypted Shapley path (deep-v2), in ONE process on the same
 * products: the unpacked term (product, window sum of width B, one mask, rescale: what every entry paid before packing)
 * against a packed term (two products sharing one relinearization, rescale and window sum, two masks through J),
 * divided by its two entries. `npm run bench:shapley-packing -- [--sizes 20,100] [--repeats 8] [--json]`.
 * Medians of `repeats` timings per kind, interleaved so machine load hits both alike; the numbers are milliseconds per
 * Gram entry. The coefficient map is random (timings do not depend on its values).
 */
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { deleteAll, type Ciphertext } from "@ciphershare/protocol/ckks/seal";
import { generateKeys, loadPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { matrix } from "@ciphershare/protocol/linalg/matrix";
import type { CoefficientMap } from "@ciphershare/coprocessor/shapley/coefficients";
import { entryCount } from "@ciphershare/coprocessor/shapley/gram";
import { EncryptedShapleyEvaluator } from "@ciphershare/coprocessor/shapley/encrypted/evaluator";
import {
  CONJUGATION_STEP,
  coefficientMask,
  outputBlock,
  slotSumSteps,
  windowSumSteps,
} from "@ciphershare/coprocessor/shapley/encrypted/layout";
import { rotateAndAddInplace } from "@ciphershare/coprocessor/shapley/encrypted/slots";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
};
const sizes = option("sizes", "20,100").split(",").map(Number);
const repeats = Number(option("repeats", "8"));
const json = args.includes("--json");
const PARAMETER_SET = "deep-v2";

function randomMap(n: number): CoefficientMap {
  const entries = entryCount(n);
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return {
    n,
    entries,
    batches: 1,
    rows: Float64Array.from({ length: n * entries }, random),
    constant: new Float64Array(n),
    method: "exact",
    outputScale: 1,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main(): Promise<void> {
  const ctx = await CkksContext.create(PARAMETER_SET);
  const keys = generateKeys(ctx, { galoisSteps: [CONJUGATION_STEP, ...slotSumSteps(ctx.slotCount)] });
  const bundle = await loadPublicBundle(ctx, keys.bundle);
  const d = 8;
  const c = 4;
  const r = matrix(
    d,
    d,
    Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0)),
  );
  const xty = matrix(
    d,
    c,
    Array.from({ length: d * c }, (_, i) => Math.sin(i)),
  );
  const rows: Record<string, number | string>[] = [];
  for (const n of sizes) {
    const map = randomMap(n);
    const evaluator = new EncryptedShapleyEvaluator(
      ctx,
      { relinKeys: bundle.relinKeys, galoisKeys: bundle.galoisKeys!, galoisSteps: bundle.galoisSteps },
      { r, xty, map, normalizer: 1, yNormSquared: 1 },
    );
    // Four clients suffice: entries 0 … 3 are pair products of them whatever n (pairs come first in the Gram layout).
    const zs: Ciphertext[] = [];
    const ws: Ciphertext[] = [];
    for (let i = 0; i < 4; i++) {
      const values = Float64Array.from({ length: ctx.slotCount }, (_, s) => (s < d * c ? Math.cos(i + s) : 0));
      const z = ctx.encrypt(values, bundle.encryptor);
      ctx.evaluator.cipherModSwitchToNextInplace(z);
      zs.push(z);
      ws.push(ctx.encrypt(values, bundle.encryptor));
    }
    const projection = (i: number) => zs[i % 4];
    const model = (i: number) => ws[i % 4];
    const block = outputBlock(n);
    const unpacked = () => {
      const started = performance.now();
      const product = evaluator.entryProduct(0, projection, model);
      rotateAndAddInplace(ctx, bundle.galoisKeys!, product, windowSumSteps(block));
      const mask = ctx.encode(coefficientMask(map, 0, ctx.slotCount), {
        scale: 2 ** 55,
        levelOf: product,
      });
      ctx.evaluator.multiplyPlainInplace(product, mask);
      ctx.evaluator.rescaleToNextInplace(product);
      const ms = performance.now() - started;
      deleteAll(product, mask);
      return ms;
    };
    const packed = () => {
      const started = performance.now();
      const product = evaluator.packedProduct(0, projection, model);
      const term = evaluator.maskedPackedTerm(product, 0);
      const ms = (performance.now() - started) / 2;
      deleteAll(product, term);
      return ms;
    };
    unpacked();
    packed(); // warm-up: J per level, allocations
    const old: number[] = [];
    const now: number[] = [];
    for (let k = 0; k < repeats; k++) {
      old.push(unpacked());
      now.push(packed());
    }
    const row = {
      n,
      block,
      entries: map.entries,
      unpackedMsPerEntry: Number(median(old).toFixed(1)),
      packedMsPerEntry: Number(median(now).toFixed(1)),
      speedup: Number((median(old) / median(now)).toFixed(2)),
      repeats,
    };
    rows.push(row);
    if (!json) console.log(row);
    evaluator.dispose();
    deleteAll(...zs, ...ws);
  }
  if (json) console.log(JSON.stringify(rows));
  bundle.dispose();
  ctx.dispose();
}

void main();
