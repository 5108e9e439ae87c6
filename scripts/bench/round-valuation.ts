// The valuation step of `bench:round`: the round's φ by its own coefficient map (`roundCoefficientMap`), either under
// encryption end to end (`valueContributions`: the custodian's epoch keys, every contributor's model and submitted
// projection encrypted, the coprocessor's Enc(φ) with the projections' consistency check, the custodian's flooded
// release of the residual and of Enc(φ) only) or, as before, applied to the plaintext Gram vector. The plaintext φ of
// the same map is computed in both modes: it is the reference the released φ is measured against.
import type { Hex } from "@ciphershare/protocol/hex";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import type { CoefficientMap } from "@ciphershare/coprocessor/shapley/coefficients";
import { applyCoefficientMap } from "@ciphershare/coprocessor/shapley/coefficients";
import { gramVector, type ValidationKernel } from "@ciphershare/coprocessor/shapley/gram";
import { valueContributions, type ValuationOptions } from "@ciphershare/coprocessor/shapley/valuation";

export interface RoundValuationInput {
  readonly kernel: ValidationKernel;
  /** The validation matrices and base model the kernel was built from (the encrypted path rebuilds the kernel). */
  readonly x: Matrix;
  readonly y: Matrix;
  readonly base: Matrix;
  readonly models: readonly Matrix[];
  readonly sampleCounts: readonly number[];
  /** The round's coefficient map over `sampleCounts` and `kernel`. */
  readonly map: CoefficientMap;
  readonly encrypted: boolean;
  /** Worker threads of the encrypted jobs (ignored with `backend`). */
  readonly workers: number;
  readonly backend?: ValuationOptions["backend"];
  /** The epoch's Galois key set (`ValuationOptions.keyProfile`; default "submitted": 14 keys, ~4 GB less at n = 200). */
  readonly keyProfile?: ValuationOptions["keyProfile"];
  /** The public seed of the projections' consistency check (a round derives it after submissions close). */
  readonly challengeSeed?: Hex;
  readonly log: (line: string) => void;
}

export interface RoundValuation {
  readonly valuation: "encrypted" | "plaintext";
  /** The φ the round settles by: released by the custodian (flooded) when encrypted, else the plaintext φ. */
  readonly phi: number[];
  /** What the coprocessor publishes as the scores hash: the Enc(φ) envelope's commitment, or keccak of φ's float64. */
  readonly scoresHash: Hex;
  /** What the custodian anchors: keccak-256 of the released φ as float64. */
  readonly releaseHash: Hex;
  readonly valuationSeconds: number;
  /** Released φ vs the plaintext φ of the same map, max over k, relative to max |φ| (0 when plaintext). */
  readonly valuationMaxRelError: number;
  /** The same before the custodian's flooding (precision of the homomorphic computation alone). */
  readonly valuationMaxRelErrorUnflooded?: number;
  readonly valuationBreakdown?: Readonly<Record<string, number>>;
  readonly floodingSigma?: number;
  readonly inconsistentProjections?: readonly number[];
  readonly consistencyChecks?: number;
}

const HEARTBEAT_MS = 60_000;
const round = (seconds: number): number => Number(seconds.toFixed(1));

/** max_k |a_k − b_k| / max_k |b_k|. */
export function maxRelativeError(actual: readonly number[], expected: readonly number[]): number {
  const scale = Math.max(...expected.map(Math.abs));
  return Math.max(...actual.map((value, k) => Math.abs(value - expected[k]))) / scale;
}

/**
 * Progress lines for the long phases: every phase's first report and end, and within it at most one line per 10 % or
 * per 30 s, with the time since the phase began (the previous phase's last report: the pipeline reports a job when it
 * ends, not when it starts) and a linear estimate of what is left.
 */
export function progressLogger(
  log: (line: string) => void,
  now: () => number = () => performance.now(),
): (phase: string, done: number, total: number) => void {
  let phase = "";
  let phaseStarted = 0;
  let lastLine = 0;
  let lastTenth = -1;
  let lastReport: number | undefined;
  return (current, done, total) => {
    const t = now();
    if (current !== phase) {
      phase = current;
      phaseStarted = lastReport ?? t;
      lastLine = 0;
      lastTenth = -1;
    }
    lastReport = t;
    const tenth = Math.floor((10 * done) / total);
    if (done !== total && tenth === lastTenth && t - lastLine < 30_000) return;
    lastTenth = tenth;
    lastLine = t;
    const elapsed = (t - phaseStarted) / 1000;
    const left = done > 0 && done < total ? `, ~${Math.round((elapsed * (total - done)) / done)} s left` : "";
    log(`    ${phase} ${done}/${total} (${Math.floor((100 * done) / total)} %), ${elapsed.toFixed(0)} s${left}`);
  };
}

export async function valueRound(input: RoundValuationInput): Promise<RoundValuation> {
  const started = performance.now();
  const plainPhi = Array.from(applyCoefficientMap(input.map, gramVector(input.kernel, input.models)));
  const floatHash = (phi: readonly number[]) => keccak256(new Uint8Array(Float64Array.from(phi).buffer));
  if (!input.encrypted) {
    const hash = await floatHash(plainPhi);
    return {
      valuation: "plaintext",
      phi: plainPhi,
      scoresHash: hash,
      releaseHash: hash,
      valuationSeconds: round((performance.now() - started) / 1000),
      valuationMaxRelError: 0,
    };
  }
  const plainSeconds = (performance.now() - started) / 1000;
  input.log(
    `  valuation under encryption: ${input.models.length} models and projections, ${input.map.entries} Gram entries in ${Math.ceil(input.map.entries / 2)} packed terms`,
  );
  // The pipeline reports the terms per finished job (4 per worker), minutes apart at n = 200: a heartbeat in between
  // shows the run is alive.
  const progress = progressLogger(input.log);
  let current = { phase: "the start (keys, encryption, setup)", done: 0, total: 1, since: performance.now() };
  const heartbeat = setInterval(() => {
    const seconds = ((performance.now() - current.since) / 1000).toFixed(0);
    input.log(`    … still running, ${seconds} s since ${current.phase} ${current.done}/${current.total}`);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const encrypted = await valueContributions(
    { x: input.x, y: input.y, base: input.base, models: input.models, sampleCounts: input.sampleCounts },
    {
      map: input.map,
      workers: input.workers,
      backend: input.backend,
      keyProfile: input.keyProfile,
      keepUnflooded: true,
      challengeSeed: input.challengeSeed,
      onProgress: (phase, done, total) => {
        current = { phase, done, total, since: performance.now() };
        progress(phase, done, total);
      },
    },
  ).finally(() => clearInterval(heartbeat));
  const breakdown = Object.fromEntries(Object.entries(encrypted.heSeconds ?? {}).map(([k, v]) => [k, round(v)]));
  return {
    valuation: "encrypted",
    phi: encrypted.phi,
    scoresHash: encrypted.scoresCommitment!,
    releaseHash: await floatHash(encrypted.phi),
    // The encrypted valuation alone; the plaintext reference beside it is not part of it.
    valuationSeconds: round((performance.now() - started) / 1000 - plainSeconds),
    valuationMaxRelError: maxRelativeError(encrypted.phi, plainPhi),
    valuationMaxRelErrorUnflooded: maxRelativeError(encrypted.unflooded!, plainPhi),
    valuationBreakdown: breakdown,
    floodingSigma: encrypted.floodingSigma,
    inconsistentProjections: encrypted.inconsistentProjections,
    consistencyChecks: encrypted.projectionChecks?.length,
  };
}
