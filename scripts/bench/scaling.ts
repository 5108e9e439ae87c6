// bench:shapley --scaling: the same encrypted valuation on 1, 2, … BullMQ worker processes, its phases side by side
// and their ratios. Pure: the benchmark measures, this module parses the flag and sums the arms up.

/** The valuation's coprocessor phases (`computeEncryptedScores`), in seconds. */
export interface PhaseSeconds {
  readonly setup: number;
  readonly check: number;
  readonly projection: number;
  /** The Gram terms and the `finish` job. */
  readonly terms: number;
}

/** One measured run of one arm: how many worker processes, its phases and the jobs each worker ran. */
export interface ScalingRun {
  readonly workers: number;
  readonly phases: PhaseSeconds;
  /** The whole encrypted valuation (keygen, encryption and decryption included, which do not use the workers). */
  readonly encryptedSeconds: number;
  /** Job type → worker (host:pid) → jobs it ran and the seconds they took inside it. */
  readonly jobs: Readonly<Record<string, Readonly<Record<string, { jobs: number; seconds: number }>>>>;
}

/** What a row's `scaling` field holds: per arm (in `workers` order) the median over the repeats, and the ratios. */
export interface Scaling {
  readonly workers: readonly number[];
  readonly repeats: number;
  readonly setupSeconds: readonly number[];
  readonly checkSeconds: readonly number[];
  readonly projectionSeconds: readonly number[];
  readonly termSeconds: readonly number[];
  /** setup + check + projection + terms: the part the workers run. */
  readonly coprocessorSeconds: readonly number[];
  readonly encryptedSeconds: readonly number[];
  /** First arm's seconds over the last arm's (1 worker / 2 workers for `--scaling 1,2`); null without such jobs. */
  readonly projectionSpeedup: number | null;
  readonly termSpeedup: number | null;
  readonly coprocessorSpeedup: number | null;
  readonly endToEndSpeedup: number | null;
  /**
   * Per arm: mean seconds one projection (term) job took inside its worker. Equal across arms when each worker process
   * had a core of its own; growing with the workers when they competed for the cores (a loaded machine), which is
   * what then bounds the speedup, not the queue.
   */
  readonly projectionSecondsPerJob: readonly (number | null)[];
  readonly termSecondsPerJob: readonly (number | null)[];
  /** Per arm, per run: projection jobs each worker ran, most first (20 jobs on 2 workers: [10, 10] when even). */
  readonly projectionJobsPerWorker: readonly (readonly (readonly number[])[])[];
  /** Per arm, per run: term jobs (the `finish` job apart) each worker ran, most first. */
  readonly termJobsPerWorker: readonly (readonly (readonly number[])[])[];
}

export class ScalingArgumentError extends Error {
  constructor(readonly argument: string) {
    super(`--scaling takes distinct worker counts ≥ 1, at least two, comma-separated (e.g. 1,2); got "${argument}"`);
    this.name = "ScalingArgumentError";
  }
}

/** "1,2" → [1, 2]: at least two distinct integers ≥ 1, kept in the order given (the first arm is the reference). */
export function parseScalingArgument(argument: string): number[] {
  const counts = argument.split(",").map((part) => Number(part.trim()));
  const valid =
    counts.length >= 2 &&
    counts.every((count) => Number.isInteger(count) && count >= 1) &&
    new Set(counts).size === counts.length;
  if (!valid) throw new ScalingArgumentError(argument);
  return counts;
}

export class ScalingRunsError extends Error {
  constructor(readonly reason: string) {
    super(`Cannot summarize the scaling runs: ${reason}`);
    this.name = "ScalingRunsError";
  }
}

/** The median: robust to one run slowed by another job on a shared machine. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new ScalingRunsError("no run to take a median of");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Mean seconds of one job of this type inside its worker, over every worker; null when none ran. */
export function secondsPerJob(run: ScalingRun, type: string): number | null {
  const tallies = Object.values(run.jobs[type] ?? {});
  const jobs = tallies.reduce((sum, tally) => sum + tally.jobs, 0);
  return jobs === 0 ? null : tallies.reduce((sum, tally) => sum + tally.seconds, 0) / jobs;
}

/** Jobs of one type per worker, most first. */
export function jobsPerWorker(run: ScalingRun, type: string): number[] {
  return Object.values(run.jobs[type] ?? {})
    .map((tally) => tally.jobs)
    .sort((a, b) => b - a);
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/** first / last, or null when the phase ran no job in either arm (e.g. projections when clients submit theirs). */
function speedup(seconds: readonly number[], ran: boolean): number | null {
  const first = seconds[0];
  const last = seconds[seconds.length - 1];
  return ran && last > 0 ? round(first / last) : null;
}

/** Groups the runs by worker count (in `workers` order), takes each phase's median and the first/last ratios. */
export function summarizeScaling(workers: readonly number[], runs: readonly ScalingRun[]): Scaling {
  const arms = workers.map((count) => runs.filter((run) => run.workers === count));
  const repeats = arms[0]?.length ?? 0;
  if (repeats === 0 || arms.some((arm) => arm.length !== repeats)) {
    throw new ScalingRunsError(
      `every arm needs the same number of runs (workers ${workers.join(",")}: ${arms.map((arm) => arm.length).join(",")} runs)`,
    );
  }
  const per = (of: (run: ScalingRun) => number) => arms.map((arm) => round(median(arm.map(of))));
  const coprocessor = (run: ScalingRun) =>
    run.phases.setup + run.phases.check + run.phases.projection + run.phases.terms;
  const projectionSeconds = per((run) => run.phases.projection);
  const termSeconds = per((run) => run.phases.terms);
  const coprocessorSeconds = per(coprocessor);
  const encryptedSeconds = per((run) => run.encryptedSeconds);
  const projected = runs.some((run) => jobsPerWorker(run, "project").length > 0);
  const perJob = (type: string) =>
    arms.map((arm) => {
      const means = arm.map((run) => secondsPerJob(run, type)).filter((mean): mean is number => mean !== null);
      return means.length === 0 ? null : round(median(means));
    });
  return {
    workers: [...workers],
    repeats,
    setupSeconds: per((run) => run.phases.setup),
    checkSeconds: per((run) => run.phases.check),
    projectionSeconds,
    termSeconds,
    coprocessorSeconds,
    encryptedSeconds,
    projectionSpeedup: speedup(projectionSeconds, projected),
    termSpeedup: speedup(termSeconds, true),
    coprocessorSpeedup: speedup(coprocessorSeconds, true),
    endToEndSpeedup: speedup(encryptedSeconds, true),
    projectionSecondsPerJob: perJob("project"),
    termSecondsPerJob: perJob("terms"),
    projectionJobsPerWorker: arms.map((arm) => arm.map((run) => jobsPerWorker(run, "project"))),
    termJobsPerWorker: arms.map((arm) => arm.map((run) => jobsPerWorker(run, "terms"))),
  };
}

/** Adds one finished job to a run's tally. */
export function tallyJob(
  jobs: Record<string, Record<string, { jobs: number; seconds: number }>>,
  job: { readonly type: string; readonly worker: string; readonly milliseconds: number },
): void {
  const byWorker = (jobs[job.type] ??= {});
  const tally = (byWorker[job.worker] ??= { jobs: 0, seconds: 0 });
  tally.jobs += 1;
  tally.seconds += job.milliseconds / 1000;
}
