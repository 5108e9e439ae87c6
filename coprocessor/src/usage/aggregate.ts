import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { buildEnvelope, EnvelopeKind } from "@ciphershare/protocol/ckks/envelope";
import { deleteAll, sealCall, type GaloisKeys } from "@ciphershare/protocol/ckks/seal";
import { loadEnvelopeChunk } from "@ciphershare/protocol/ckks/update";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Hex } from "@ciphershare/protocol/hex";
import type { ParsedUsageBatch } from "./batch";
import { foldSteps } from "./layout";
import { assertValidUsageRules, type UsageRules } from "./rules";

/** The one tensor of the period's output: [1, contributors], contributor i's usage total at i. */
export const USAGE_TOTALS_TENSOR = "usage-totals";

/**
 * The power of two e with generations × cap ≤ 2^(e−1): the output ciphertext holds totals / 2^e, so every slot is
 * at most ½ whatever the attributions, which keeps the released level's headroom and the custodian's range check
 * independent of the data. It depends only on public facts (the committed counts and the program's cap).
 */
export function usageValueExponent(generations: number, generationCap: number): number {
  const bound = generations * generationCap;
  return Math.max(0, Math.ceil(Math.log2(bound)) + 1);
}

export interface UsageAggregationOptions {
  readonly publicBundleHash: Hex;
  readonly rules: UsageRules;
}

/**
 * The period's per-contributor usage totals as ONE Aggregate envelope: every chunk of every included batch is
 * added into one accumulator (exact modular additions, so the order cannot change the bytes), the generation
 * blocks are folded onto each other with rotations by stride·2^k, the sum is multiplied by the constant 2^−e at
 * the fresh scale and rescaled (the set's output scale), and switched down to the set's release level. No
 * generation, batch or partial sum is ever written out: the only ciphertext that leaves is the totals, whose
 * hash the coprocessor commits. Deterministic bytes for the same included batches in any process.
 */
export async function aggregateUsage(
  ctx: CkksContext,
  galoisKeys: GaloisKeys,
  batches: readonly ParsedUsageBatch[],
  options: UsageAggregationOptions,
): Promise<{ envelope: Uint8Array; generations: number; valueExponent: number }> {
  assertValidUsageRules(options.rules);
  if (batches.length === 0) throw new InvalidInputError("No usage batch to aggregate in this period.");
  const layout = batches[0].layout;
  batches.forEach((batch, b) => {
    if (batch.layout.stride !== layout.stride || batch.layout.contributors !== options.rules.contributors) {
      throw new InvalidInputError("Every batch of a period must share the program's layout.", {
        details: `batch ${b}: stride ${batch.layout.stride}, contributors ${batch.layout.contributors}`,
      });
    }
  });
  const generations = batches.reduce((sum, batch) => sum + batch.generations, 0);
  const valueExponent = usageValueExponent(generations, options.rules.generationCap);
  if (valueExponent > ctx.parameterSet.scaleBits - 20) {
    throw new InvalidInputError("Too much usage in one period for the parameter set's precision.", {
      details: `${generations} generations × cap ${options.rules.generationCap} needs 2^${valueExponent}`,
    });
  }
  const accumulator = new ctx.seal.Ciphertext();
  const loaded = new ctx.seal.Ciphertext();
  const rotated = new ctx.seal.Ciphertext();
  const factor = ctx.encodeConstant(2 ** -valueExponent);
  try {
    let started = false;
    for (const batch of batches) {
      for (let chunk = 0; chunk < batch.envelope.header.chunkCount; chunk++) {
        if (!started) {
          loadEnvelopeChunk(ctx, batch.envelope, chunk, accumulator);
          started = true;
        } else {
          loadEnvelopeChunk(ctx, batch.envelope, chunk, loaded);
          sealCall("add a usage ciphertext", () => ctx.evaluator.addInplace(accumulator, loaded));
        }
      }
    }
    for (const step of foldSteps(layout)) {
      sealCall(`fold generation blocks by ${step}`, () => {
        ctx.evaluator.rotateVector(accumulator, step, galoisKeys, rotated);
        ctx.evaluator.addInplace(accumulator, rotated);
      });
    }
    sealCall("scale the totals down", () => {
      ctx.evaluator.multiplyPlainInplace(accumulator, factor);
      ctx.evaluator.rescaleToNextInplace(accumulator);
    });
    const releasePrimes = ctx.parameterSet.outputCoeffModulusSize;
    if (releasePrimes !== undefined) ctx.switchCiphertextDownTo(accumulator, releasePrimes);
    const envelope = await buildEnvelope(
      {
        kind: EnvelopeKind.Aggregate,
        parameterSet: ctx.parameterSet,
        publicBundleHash: options.publicBundleHash,
        scale: accumulator.scale(),
        coeffModulusSize: accumulator.coeffModulusSize(),
        ciphertextSize: 2,
        valueExponent,
        tensors: [{ name: USAGE_TOTALS_TENSOR, shape: [1, options.rules.contributors] }],
      },
      [ctx.saveCiphertext(accumulator)],
    );
    return { envelope, generations, valueExponent };
  } finally {
    deleteAll(accumulator, loaded, rotated, factor);
  }
}
