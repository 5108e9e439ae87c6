import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { deleteAll, sealCall, type Ciphertext } from "@ciphershare/protocol/ckks/seal";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Hex } from "@ciphershare/protocol/hex";
import type { CoefficientMap } from "../coefficients";
import type { ValidationKernel } from "../gram";
import { noiseParameters } from "../../threshold/noise-bound";
import { constantMask, packedTermCount } from "./layout";
import { ciphertextOf, termJobs, threadBackend, type ValuationBackend } from "./backend";
import { openRuntimes, runJobs, type RuntimeHandle } from "./pool";

export interface EncryptedValuationRequest {
  readonly parameterSetId: string;
  /** The custodian's serialized public bundle (relinearization + Galois keys for `requiredGaloisSteps`). */
  readonly bundle: Uint8Array;
  /** Each client's fresh ciphertext of vec(w_i) (row-major d×c in the first d·c slots). */
  readonly models: readonly Uint8Array[];
  readonly kernel: ValidationKernel;
  readonly map: CoefficientMap;
  /** Worker threads (default 2, one per core); 0 runs everything in the calling thread. */
  readonly workers?: number;
  /** Where the jobs run instead of `workers` threads, e.g. BullMQ workers (`queue/backend.ts`); closed at the end. */
  readonly backend?: ValuationBackend;
  /**
   * Projections the clients submitted: fresh Enc(vec(R·w_i)) (`encryptProjection`), or undefined for a client that
   * submitted none (the workers project it). Used only after the consistency check accepts them.
   */
  readonly projections?: readonly (Uint8Array | undefined)[];
  /** Required with `projections`: the public challenge seed and the release of a residual (`consistency.ts`). */
  readonly consistency?: ProjectionConsistency;
  readonly onProgress?: (phase: "setup" | "check" | "projection" | "terms", done: number, total: number) => void;
}

export interface ProjectionConsistency {
  /** Public, fixed after submissions close (the round's commitments hash mixed with a later block hash). */
  readonly seed: Hex;
  /**
   * Has the residual ciphertext of these clients released (decrypted and flooded, the custodian's policy) and says
   * whether it is within the tolerance (`consistencyTolerance`).
   */
  readonly accepts: (residual: Uint8Array, indices: readonly number[]) => Promise<boolean>;
}

export interface EncryptedValuationResult {
  /** The only ciphertext the custodian decrypts: φ_k in slot k (k < n), zeros elsewhere. */
  readonly scores: Uint8Array;
  /** Clients whose submitted projection failed its check: projected by the workers instead. */
  readonly inconsistent: readonly number[];
  readonly seconds: { setup: number; check: number; projection: number; terms: number; total: number };
}

/**
 * Enc(φ) from encrypted models: z_i = (R⊗I)·w_i on the workers, then every Gram entry's masked term,
 * summed into one ciphertext with the public constant added. No Gram entry, utility or coalition model
 * is ever decrypted; the HE work is n projections and n(n+1)/2 + n terms whatever the number of coalitions.
 */
export async function computeEncryptedScores(request: EncryptedValuationRequest): Promise<EncryptedValuationResult> {
  const n = request.map.n;
  if (request.models.length !== n) {
    throw new InvalidInputError("The number of encrypted models does not match the coefficient map.", {
      details: `${request.models.length} models, map for ${n} clients`,
    });
  }
  const started = performance.now();
  const backend = request.backend ?? threadBackend(request.workers ?? 2);
  const ctx = await CkksContext.create(request.parameterSetId);
  try {
    await openBackend(backend, request, !request.projections?.every((z) => z !== undefined));
    request.onProgress?.("setup", 1, 1);
    const setupDone = performance.now();

    const submitted = await checkedProjections(ctx, backend, request);
    const checkDone = performance.now();

    const toProject = [...Array(n).keys()].filter((i) => submitted[i] === undefined);
    let projected = 0;
    const computed = await backend.project(toProject, () =>
      request.onProgress?.("projection", ++projected, toProject.length),
    );
    const projections = [...submitted];
    toProject.forEach((client, k) => (projections[client] = computed[k]));
    const projectionDone = performance.now();

    let termsDone = 0;
    const partials = await backend.terms(
      projections as Uint8Array[],
      termJobs(request.map.entries, backend.parallelism * 4),
      (terms) => request.onProgress?.("terms", (termsDone += terms), packedTermCount(request.map.entries)),
    );
    const scores = withConstant(ctx, await backend.finish(partials), request.map);
    const finished = performance.now();
    return {
      scores,
      inconsistent: backend.check ? toProject.filter((client) => request.projections?.[client] !== undefined) : [],
      seconds: {
        setup: (setupDone - started) / 1000,
        check: (checkDone - setupDone) / 1000,
        projection: (projectionDone - checkDone) / 1000,
        terms: (finished - projectionDone) / 1000,
        total: (finished - started) / 1000,
      },
    };
  } finally {
    await backend.close();
    ctx.dispose();
  }
}

/**
 * The consistency check alone (no Gram terms): which clients' submitted projections fail it, by the same rule as
 * `computeEncryptedScores` (all together, then each alone if that fails). A round uses it to exclude those clients
 * before the valuation instead of projecting them; the backend is closed at the end.
 */
export async function inconsistentProjections(
  request: Omit<EncryptedValuationRequest, "onProgress">,
): Promise<number[]> {
  const backend = request.backend ?? threadBackend(request.workers ?? 2);
  if (!backend.check) {
    await backend.close();
    throw new InvalidInputError("This valuation backend cannot check submitted projections.");
  }
  const ctx = await CkksContext.create(request.parameterSetId);
  try {
    await openBackend(backend, request, false);
    const accepted = await checkedProjections(ctx, backend, request);
    return [...accepted.keys()].filter((i) => request.projections?.[i] !== undefined && accepted[i] === undefined);
  } finally {
    await backend.close();
    ctx.dispose();
  }
}

/** Opens the backend on the request's keys, kernel, map and models (the projection's diagonals only if needed). */
async function openBackend(
  backend: ValuationBackend,
  request: Omit<EncryptedValuationRequest, "onProgress">,
  prepareProjection: boolean,
): Promise<void> {
  const { kernel } = request;
  await backend.open({
    parameterSetId: request.parameterSetId,
    bundle: request.bundle,
    setup: {
      r: kernel.r,
      xty: kernel.xty,
      map: request.map,
      normalizer: kernel.normalizer,
      yNormSquared: kernel.yNormSquared,
    },
    models: request.models,
    prepareProjection,
  });
}

export interface CoalitionUtilityResult {
  /** Enc(U(S)) per coalition (every slot holds the value), in the order given. */
  readonly utilities: Uint8Array[];
  /** Wall-clock milliseconds of each coalition's evaluation inside its worker. */
  readonly milliseconds: number[];
  readonly seconds: number;
}

/**
 * The per-coalition HE baseline (HESV-style): for each coalition, build Enc(w_S) from the members'
 * ciphertexts, project it and evaluate Enc(U(S)). Its cost grows with the number of coalitions, 2^n − 1.
 */
export async function computeCoalitionUtilities(
  request: Omit<EncryptedValuationRequest, "map"> & { readonly sampleCounts: readonly number[] },
  coalitions: readonly (readonly number[])[],
): Promise<CoalitionUtilityResult> {
  const started = performance.now();
  const runtimes = openRuntimes(request.workers ?? 2);
  try {
    await initRuntimes(runtimes, request, [...request.models]);
    const results = await runJobs(runtimes, coalitions, async (runtime, members) => {
      const response = await runtime.request({
        type: "coalition",
        members: [...members],
        sampleCounts: members.map((i) => request.sampleCounts[i]),
      });
      return { bytes: ciphertextOf(response), ms: response.type === "ciphertext" ? response.milliseconds : 0 };
    });
    return {
      utilities: results.map((r) => r.bytes),
      milliseconds: results.map((r) => r.ms),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await Promise.all(runtimes.map((runtime) => runtime.close()));
  }
}

async function initRuntimes(
  runtimes: readonly RuntimeHandle[],
  request: Omit<EncryptedValuationRequest, "map"> & { readonly map?: CoefficientMap },
  models: Uint8Array[],
): Promise<void> {
  const { kernel } = request;
  const setup = {
    r: kernel.r,
    xty: kernel.xty,
    map: request.map,
    normalizer: kernel.normalizer,
    yNormSquared: kernel.yNormSquared,
  };
  await Promise.all(
    runtimes.map(async (runtime) => {
      await runtime.request({ type: "init", parameterSetId: request.parameterSetId, bundle: request.bundle, setup });
      await runtime.request({ type: "models", models });
    }),
  );
}

/**
 * The submitted projections the check accepts, switched to level 1 (where a computed projection lands, at the same
 * scale Δ), undefined for the rest. All submitted ones are checked together (one residual); if that fails, each one
 * alone, and only the failing ones are dropped (the workers project those clients instead).
 */
async function checkedProjections(
  ctx: CkksContext,
  backend: ValuationBackend,
  request: EncryptedValuationRequest,
): Promise<(Uint8Array | undefined)[]> {
  const n = request.map.n;
  const out = new Array<Uint8Array | undefined>(n).fill(undefined);
  const given = request.projections;
  if (!given) return out;
  if (given.length !== n) {
    throw new InvalidInputError("Submitted projections must be listed per client.", {
      details: `${given.length} entries for ${n} clients`,
    });
  }
  const { consistency } = request;
  if (!consistency) throw new InvalidInputError("Submitted projections are never used unchecked: pass `consistency`.");
  if (!backend.check) return out; // this backend cannot check: project every client
  const indices = [...Array(n).keys()].filter((i) => given[i] !== undefined);
  if (indices.length === 0) return out;
  const check = async (clients: readonly number[]) =>
    consistency.accepts(
      await backend.check!(
        consistency.seed,
        clients,
        clients.map((i) => given[i]!),
      ),
      clients,
    );
  let accepted = indices;
  if (!(await check(indices))) {
    accepted = [];
    for (const client of indices) if (await check([client])) accepted.push(client);
  }
  request.onProgress?.("check", 1, 1);
  const size = request.kernel.r.rows * request.kernel.xty.cols;
  for (const client of accepted) out[client] = levelOneProjection(ctx, given[client]!, size);
  return out;
}

/**
 * A fresh Enc(vec(z)) brought to level 1 at scale Δ, like (R⊗I)·Enc(w) after its rescale, keeping only its first d·c
 * slots: the check constrains those (ρ_i is zero beyond), but the Gram sums run over every slot, so a client could
 * otherwise hide anything past d·c in its submission and move its own G_ii. The 0/1 mask is encoded at scale q_L, the
 * prime the rescale drops, so the scale returns to Δ (up to the last bits of the double SEAL keeps, snapped back).
 */
function levelOneProjection(ctx: CkksContext, fresh: Uint8Array, size: number): Uint8Array {
  const ciphertext = ctx.loadCiphertext(fresh, { coeffModulusSize: ctx.freshCoeffModulusSize, scale: ctx.scale });
  const primes = noiseParameters(ctx).dataPrimes;
  const mask = ctx.encode(new Float64Array(ctx.slotCount).fill(1, 0, size), {
    scale: primes[primes.length - 1],
    levelOf: ciphertext,
  });
  try {
    sealCall("mask a submitted projection to its d·c slots", () => {
      ctx.evaluator.multiplyPlain(ciphertext, mask, ciphertext);
      ctx.evaluator.rescaleToNextInplace(ciphertext);
    });
    if (Math.abs(ciphertext.scale() / ctx.scale - 1) > 1e-12) {
      throw new InvalidInputError("A masked projection did not land at the scale of a computed one.", {
        details: `2^${Math.log2(ciphertext.scale())} vs 2^${Math.log2(ctx.scale)}`,
      });
    }
    ciphertext.setScale(ctx.scale);
    return ctx.saveCiphertext(ciphertext);
  } finally {
    deleteAll(mask, ciphertext);
  }
}

/** Adds the public constant (in plaintext) to the finished sum of the Shapley terms. */
function withConstant(ctx: CkksContext, finished: Uint8Array, map: CoefficientMap): Uint8Array {
  const total: Ciphertext = ctx.loadCiphertext(finished);
  const constant = ctx.encode(constantMask(map, ctx.slotCount), { scale: total.scale(), levelOf: total });
  try {
    sealCall("add the constant of φ", () => ctx.evaluator.addPlainInplace(total, constant));
    return ctx.saveCiphertext(total);
  } finally {
    deleteAll(constant, total);
  }
}
