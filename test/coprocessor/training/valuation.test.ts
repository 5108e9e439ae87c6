import { expect } from "chai";
import { pooledMnist, pooledSplit } from "@ciphershare/coprocessor/simulation/pooled-mnist";
import { localModelResidual, localModels, valueProviders } from "@ciphershare/coprocessor/training/valuation";
import { providerStatistics } from "@ciphershare/protocol/training/statistics";
import { pooledRidgeShapley, spearman } from "@ciphershare/coprocessor/training/pooled-shapley";
import { SeededRandom } from "@ciphershare/coprocessor/random/seeded-random";

describe("training: valuing providers by their local ridge models (exact Shapley)", function () {
  const shape = { features: 64, outputs: 10 };
  const lambda = 0.01;
  const split = pooledSplit(6, 300, 500, 3);
  const data = split.providers.map((rows) => pooledMnist(8, rows));
  // Provider 5 labels its rows at random.
  const random = new SeededRandom(99);
  const noisy = data[5].y.data.fill(0);
  for (let r = 0; r < data[5].y.rows; r++) noisy[r * 10 + random.nextInt(10)] = 1;
  const stats = data.map(({ x, y }) => providerStatistics(x, y, shape, x.rows));
  const models = localModels(stats, lambda, shape);
  const validation = pooledMnist(8, split.test);

  it("gives the random-label provider the lowest φ and no royalty (plaintext Gram method)", async function () {
    const { valuation, shares, flagged } = await valueProviders(
      models,
      stats.map((s) => s.rows),
      validation,
      1_000_000n,
      { encrypted: false },
    );
    const lowest = valuation.phi.indexOf(Math.min(...valuation.phi));
    expect(lowest).to.equal(5);
    expect(shares[5]).to.equal(0n);
    expect(flagged).to.include(5);
    expect(shares.slice(0, 5).every((share) => share > 0n)).to.equal(true);
    expect(shares.reduce((a, b) => a + b, 0n)).to.equal(1_000_000n);
  });

  it("checks a local model against the provider's statistics: its own model fits, another's does not", function () {
    expect(localModelResidual(stats[0], models[0], lambda)).to.be.below(1e-9);
    expect(localModelResidual(stats[0], models[1], lambda)).to.be.above(0.01);
    expect(localModelResidual(stats[5], models[0], lambda)).to.be.above(0.01);
  });
});

describe("training: the proxy against the exact Shapley value of the pooled ridge model", function () {
  it("ranks six MNIST providers (one random-label, one duplicate) like the pooled-ridge Shapley value", async function () {
    const shape = { features: 64, outputs: 10 };
    const lambda = 0.01;
    const split = pooledSplit(5, 200, 500, 8);
    const data = split.providers.map((rows) => pooledMnist(8, rows));
    const random = new SeededRandom(5);
    const noisy = data[4].y.data.fill(0);
    for (let r = 0; r < data[4].y.rows; r++) noisy[r * 10 + random.nextInt(10)] = 1;
    data.push(data[0]); // provider 5 duplicates provider 0's rows
    const stats = data.map(({ x, y }) => providerStatistics(x, y, shape));
    const validation = pooledMnist(8, split.test);
    const exact = pooledRidgeShapley(stats, shape, lambda, validation);
    const { valuation } = await valueProviders(
      localModels(stats, lambda, shape),
      stats.map((s) => s.rows),
      validation,
      1n,
      { encrypted: false },
    );
    expect(exact.indexOf(Math.min(...exact))).to.equal(4);
    expect(valuation.phi.indexOf(Math.min(...valuation.phi))).to.equal(4);
    expect(spearman(valuation.phi, exact)).to.be.above(0.5);
    expect(spearman([1, 2, 3], [10, 20, 30])).to.equal(1);
    expect(spearman([1, 2, 3], [3, 2, 1])).to.equal(-1);
  });
});
