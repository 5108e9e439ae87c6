import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { deleteAll } from "@ciphershare/protocol/ckks/seal";
import { SealFormatError } from "./errors";
import { parmsIdWords, sameParmsId, type ParmsId } from "./seal-format";

/** One level of a context's modulus chain: the parms_id SEAL stamps on objects there and its primes. */
export interface ModulusLevel {
  readonly parmsId: ParmsId;
  /** The level's primes, in SEAL's order (rescaling drops the last one). */
  readonly primes: readonly bigint[];
}

export interface ModulusChain {
  readonly polyModulusDegree: number;
  /** The key level: every data prime plus the special (key-switching) prime, last. */
  readonly key: ModulusLevel;
  /** Data levels from the freshest (all data primes) to the last (one prime). */
  readonly levels: readonly ModulusLevel[];
}

const chains = new WeakMap<CkksContext, ModulusChain>();

/**
 * The modulus chain of a context, read once from SEAL. A ciphertext at any level uses the first k primes
 * of the key level's list, which is why a share of the key decrypts at every level by truncation.
 */
export function modulusChain(ctx: CkksContext): ModulusChain {
  const known = chains.get(ctx);
  if (known) return known;
  const all: ModulusLevel[] = [];
  let data = ctx.context.keyContextData();
  for (;;) {
    const parms = data.parms();
    const vector = parms.coeffModulus();
    const parmsId = data.parmsId();
    try {
      const primes = ctx.seal.jsArrayFromVecModulus(vector) as bigint[];
      all.push({ parmsId: parmsIdWords(parmsId.values() as ArrayLike<bigint>), primes: Object.freeze([...primes]) });
    } finally {
      deleteAll(parmsId, vector, parms);
    }
    const last = data.chainIndex() === 0;
    const next = last ? undefined : data.nextContextData();
    data.delete();
    if (!next) break;
    data = next;
  }
  const chain: ModulusChain = Object.freeze({
    polyModulusDegree: ctx.parameterSet.polyModulusDegree,
    key: all[0],
    levels: Object.freeze(all.slice(1)),
  });
  chains.set(ctx, chain);
  return chain;
}

/** The data level a parms_id names, or a `SealFormatError` when it is not one of this context's. */
export function levelOf(chain: ModulusChain, parmsId: ParmsId): ModulusLevel {
  const level = chain.levels.find((candidate) => sameParmsId(candidate.parmsId, parmsId));
  if (!level) {
    throw new SealFormatError("The object's parms_id is not a data level of this parameter set.", {
      details: `parms_id ${parmsId.map((word) => word.toString(16)).join(":")}`,
    });
  }
  return level;
}

/** The data level with exactly `coeffModulusSize` primes. */
export function levelWithPrimes(chain: ModulusChain, coeffModulusSize: number): ModulusLevel {
  const level = chain.levels.find((candidate) => candidate.primes.length === coeffModulusSize);
  if (!level) {
    throw new SealFormatError("This parameter set has no level with that many primes.", {
      details: `${coeffModulusSize} primes; levels have ${chain.levels.map((l) => l.primes.length).join(", ")}`,
    });
  }
  return level;
}
