import { expect } from "chai";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { FEDAVG_CLIENTS_PER_JOB, fedAvgJobPlan } from "@ciphershare/coprocessor/queue/fedavg-plan";

describe("queue: FedAvg's job plan", () => {
  it("cuts each chunk's positive-weight clients into ordered ranges, skipping zero weights", () => {
    const weights = [0.1, 0, 0.2, 0.3, 0, 0.25, 0.15];
    expect(fedAvgJobPlan(weights, 2, 2)).to.deep.equal([
      { chunk: 0, clients: [0, 2] },
      { chunk: 0, clients: [3, 5] },
      { chunk: 0, clients: [6] },
      { chunk: 1, clients: [0, 2] },
      { chunk: 1, clients: [3, 5] },
      { chunk: 1, clients: [6] },
    ]);
  });

  it("covers every positive-weight client exactly once per chunk, in order, whatever the job size", () => {
    const weights = Array.from({ length: 200 }, (_, i) => (i % 9 === 4 ? 0 : 1 / 200));
    const positive = weights.flatMap((w, i) => (w > 0 ? [i] : []));
    for (const size of [1, 7, FEDAVG_CLIENTS_PER_JOB, 500]) {
      const plan = fedAvgJobPlan(weights, 3, size);
      for (let chunk = 0; chunk < 3; chunk++) {
        const jobs = plan.filter((job) => job.chunk === chunk);
        expect(jobs.flatMap((job) => job.clients)).to.deep.equal(positive);
        jobs.forEach((job) => expect(job.clients.length).to.be.within(1, size));
      }
      expect(plan.length).to.equal(3 * Math.ceil(positive.length / size));
    }
  });

  it("refuses no chunk, an empty job size and all-zero weights, naming the value", () => {
    expect(() => fedAvgJobPlan([1], 0)).to.throw(InvalidInputError, /chunk/);
    expect(() => fedAvgJobPlan([1], 1, 0)).to.throw(InvalidInputError, /at least one client/);
    expect(() => fedAvgJobPlan([0, 0], 1)).to.throw(InvalidInputError, /positive weight/);
  });
});
