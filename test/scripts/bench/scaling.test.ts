import { expect } from "chai";
import {
  median,
  parseScalingArgument,
  ScalingArgumentError,
  ScalingRunsError,
  summarizeScaling,
  tallyJob,
  type ScalingRun,
} from "../../../scripts/bench/scaling";

/** A run whose projection jobs went `split` (per worker) and whose phases took the given seconds. */
function run(workers: number, projection: number, terms: number, split: number[], encrypted = 60): ScalingRun {
  const jobs: Record<string, Record<string, { jobs: number; seconds: number }>> = {};
  split.forEach((count, worker) => {
    for (let k = 0; k < count; k++) tallyJob(jobs, { type: "project", worker: `w${worker}`, milliseconds: 1500 });
    tallyJob(jobs, { type: "terms", worker: `w${worker}`, milliseconds: 800 });
  });
  return { workers, phases: { setup: 9, check: 0, projection, terms }, encryptedSeconds: encrypted, jobs };
}

describe("bench:shapley --scaling", () => {
  it("parses distinct worker counts in the order given and refuses anything else, naming it", () => {
    expect(parseScalingArgument("1,2")).to.deep.equal([1, 2]);
    expect(parseScalingArgument("2, 1,4")).to.deep.equal([2, 1, 4]);
    for (const bad of ["2", "1,1", "0,2", "1,x", "1.5,2", ""]) {
      expect(() => parseScalingArgument(bad)).to.throw(ScalingArgumentError, `"${bad}"`);
    }
  });

  it("reports each phase per arm and first/last ratios, with each worker's share of the projection jobs", () => {
    const scaling = summarizeScaling([1, 2], [run(1, 30, 14, [20], 70), run(2, 15.5, 7.5, [10, 10], 50)]);
    expect(scaling.projectionSeconds).to.deep.equal([30, 15.5]);
    expect(scaling.termSeconds).to.deep.equal([14, 7.5]);
    expect(scaling.setupSeconds).to.deep.equal([9, 9]);
    expect(scaling.coprocessorSeconds).to.deep.equal([53, 32]);
    expect(scaling.projectionSpeedup).to.equal(1.935);
    expect(scaling.termSpeedup).to.equal(1.867);
    expect(scaling.coprocessorSpeedup).to.equal(1.656);
    expect(scaling.endToEndSpeedup).to.equal(1.4);
    expect(scaling.projectionJobsPerWorker).to.deep.equal([[[20]], [[10, 10]]]);
    expect(scaling.projectionSecondsPerJob).to.deep.equal([1.5, 1.5]);
    expect(scaling.termSecondsPerJob).to.deep.equal([0.8, 0.8]);
    expect(scaling.termJobsPerWorker).to.deep.equal([[[1]], [[1, 1]]]);
  });

  it("takes each arm's median over repeats whatever the order the arms ran in", () => {
    const runs = [run(1, 30, 14, [20]), run(2, 16, 8, [10, 10]), run(2, 40, 8, [11, 9]), run(1, 31, 14, [20])];
    runs.push(run(1, 29, 14, [20]), run(2, 15, 8, [10, 10]));
    const scaling = summarizeScaling([1, 2], runs);
    expect(scaling.repeats).to.equal(3);
    expect(scaling.projectionSeconds).to.deep.equal([30, 16]);
    expect(scaling.projectionJobsPerWorker[1]).to.deep.equal([
      [10, 10],
      [11, 9],
      [10, 10],
    ]);
  });

  it("has no projection ratio when no projection job ran (clients submitted theirs)", () => {
    const scaling = summarizeScaling([1, 2], [run(1, 0.01, 14, []), run(2, 0.02, 7, [])]);
    expect(scaling.projectionSpeedup).to.equal(null);
    expect(scaling.projectionSecondsPerJob).to.deep.equal([null, null]);
    expect(scaling.termSpeedup).to.equal(2);
  });

  it("refuses arms with different numbers of runs", () => {
    expect(() => summarizeScaling([1, 2], [run(1, 30, 14, [20])])).to.throw(ScalingRunsError, /1,0 runs/);
    expect(() => median([])).to.throw(ScalingRunsError);
    expect(median([3, 1, 2, 10])).to.equal(2.5);
  });
});
