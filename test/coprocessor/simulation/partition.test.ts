import { expect } from "chai";
import fc from "fast-check";

import { InvalidInputError } from "@ciphershare/protocol/errors";
import { loadMnist } from "@ciphershare/coprocessor/simulation/mnist";
import {
  dirichletPartition,
  labelSkew,
  shardPartition,
  type Partition,
} from "@ciphershare/coprocessor/simulation/partition";
import { SeededRandom } from "@ciphershare/coprocessor/random/seeded-random";

function expectExactCover(partition: Partition, rows: number): void {
  const all = partition.flat().sort((a, b) => a - b);
  expect(all).to.deep.equal(Array.from({ length: rows }, (_, i) => i));
}

describe("ml/partition", () => {
  const { labels } = loadMnist();

  it("Dirichlet: every row to exactly one client, at least the minimum each, same seed same split", () => {
    const split = (seed: number) => dirichletPartition(labels, 10, { clients: 8, alpha: 0.5 }, new SeededRandom(seed));
    const partition = split(11);
    expectExactCover(partition, labels.length);
    expect(partition.every((rows) => rows.length >= 10)).to.equal(true);
    expect(split(11)).to.deep.equal(partition);
    expect(split(12)).to.not.deep.equal(partition);
  });

  it("Dirichlet: small alpha is strongly non-IID, large alpha close to IID", () => {
    const skew = (alpha: number) =>
      labelSkew(labels, 10, dirichletPartition(labels, 10, { clients: 8, alpha }, new SeededRandom(5)));
    const nonIid = skew(0.5);
    const nearIid = skew(1000);
    expect(nonIid).to.be.greaterThan(0.3);
    expect(nearIid).to.be.lessThan(0.05);
  });

  it("shards: each client sees about as many digits as it has shards", () => {
    const partition = shardPartition(labels, 10, { clients: 10, shardsPerClient: 2 }, new SeededRandom(1));
    expectExactCover(partition, labels.length);
    for (const rows of partition) {
      const digits = new Set(rows.map((row) => labels[row]));
      expect(digits.size).to.be.at.most(4); // two shards, each may straddle a digit boundary
    }
    expect(labelSkew(labels, 10, partition)).to.be.greaterThan(0.7);
  });

  it("covers every row exactly once for any labels, clients and seed (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 20, maxLength: 200 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer(),
        (labelList, clients, seed) => {
          const small = Uint8Array.from(labelList);
          const partition = dirichletPartition(
            small,
            5,
            { clients, alpha: 1, minPerClient: 1 },
            new SeededRandom(seed),
          );
          expectExactCover(partition, small.length);
          expectExactCover(
            shardPartition(small, 5, { clients, shardsPerClient: 2 }, new SeededRandom(seed)),
            small.length,
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it("names impossible requests", () => {
    const random = new SeededRandom(1);
    expect(() => dirichletPartition(labels, 10, { clients: 0, alpha: 1 }, random)).to.throw(InvalidInputError);
    expect(() => dirichletPartition(labels, 10, { clients: 4, alpha: 0 }, random)).to.throw(InvalidInputError, /alpha/);
    expect(() => dirichletPartition(labels, 10, { clients: 4, alpha: 1, minPerClient: 5000 }, random)).to.throw(
      InvalidInputError,
      /minimum per client/,
    );
  });
});
