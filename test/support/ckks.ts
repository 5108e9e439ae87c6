import { SeededRandom } from "@ciphershare/coprocessor/random/seeded-random";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  generateKeys,
  loadPublicBundle,
  loadSecretKey,
  type GeneratedKeys,
  type LoadedPublicBundle,
  type LoadedSecretKey,
} from "@ciphershare/protocol/ckks/keys";

export interface KeyedContext {
  ctx: CkksContext;
  keys: GeneratedKeys;
  bundle: LoadedPublicBundle;
  secret: LoadedSecretKey;
}

const contexts = new Map<string, Promise<CkksContext>>();
const keyed = new Map<string, Promise<KeyedContext>>();

/** One context per parameter set for the whole test run (creating one costs 0.4–1.4 s). */
export function sharedContext(parameterSetId: string): Promise<CkksContext> {
  let ctx = contexts.get(parameterSetId);
  if (!ctx) contexts.set(parameterSetId, (ctx = CkksContext.create(parameterSetId)));
  return ctx;
}

export function fastContext(): Promise<CkksContext> {
  return sharedContext("fast-v1");
}

/** A shared context with one key set loaded (public bundle + secret key), for tests that decrypt. */
export function keyedContext(parameterSetId = "fast-v1"): Promise<KeyedContext> {
  let entry = keyed.get(parameterSetId);
  if (!entry) {
    entry = (async () => {
      const ctx = await sharedContext(parameterSetId);
      const keys = generateKeys(ctx);
      return {
        ctx,
        keys,
        bundle: await loadPublicBundle(ctx, keys.bundle),
        secret: loadSecretKey(ctx, keys.secretKey),
      };
    })();
    keyed.set(parameterSetId, entry);
  }
  return entry;
}

/** Deterministic pseudo-random numbers so failures reproduce. */
export function seededRandom(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.nextFloat();
}

/** Values like a model update: mostly small, some larger, deterministic per seed. */
export function sampleUpdate(length: number, seed: number, magnitude = 0.1): Float64Array {
  const random = seededRandom(seed);
  return Float64Array.from({ length }, () => (random() * 2 - 1) * magnitude * (random() < 0.05 ? 10 : 1));
}

export function maxAbsError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i] - expected[i]));
  return max;
}
