import { expect } from "chai";
import fc from "fast-check";

import { InvalidInputError } from "@ciphershare/protocol/errors";
import { flipLabels, freeRiderUpdate } from "@ciphershare/coprocessor/simulation/adversaries";
import type { Dataset } from "@ciphershare/protocol/records/dataset";
import { accuracy } from "@ciphershare/coprocessor/simulation/evaluate";
import { squaredErrorUtility } from "@ciphershare/coprocessor/shapley/utility";
import { federatedAverage } from "@ciphershare/coprocessor/simulation/federated-average";
import {
  contributorUpdate,
  mnistFederatedSetup,
  type ContributorBehaviour,
  type FederatedSetup,
} from "@ciphershare/coprocessor/simulation/federated";
import { decodeModel, encodeModel, zeroModel, type LinearModel } from "@ciphershare/protocol/records/model";
import { type ClientUpdate, trainLocalModel, type LossKind } from "@ciphershare/coprocessor/simulation/train";
import { SeededRandom } from "@ciphershare/coprocessor/random/seeded-random";

const SEED = 7;
const HONEST: ContributorBehaviour = { kind: "honest" };

function bytesOf(model: LinearModel): Buffer {
  return Buffer.from(model.weights.buffer, model.weights.byteOffset, model.weights.byteLength);
}

/** FedAvg rounds from the zero model; returns the global model and the last round's updates. */
function runRounds(setup: FederatedSetup, behaviours: ContributorBehaviour[], rounds: number, loss: LossKind) {
  let global = zeroModel(785, 10);
  let updates: ClientUpdate[] = [];
  for (let round = 0; round < rounds; round++) {
    updates = behaviours.map((behaviour, client) =>
      contributorUpdate(setup, client, behaviour, global, round, SEED, { loss }),
    );
    global = federatedAverage(updates);
  }
  return { global, updates };
}

describe("ml: federated softmax regression on non-IID MNIST", function () {
  this.timeout(60_000);

  let setup4: FederatedSetup;
  before(() => {
    setup4 = mnistFederatedSetup({ seed: SEED, clients: 4 });
  });

  it("splits 10 000 digits into test 2000, validation 1000 and 7000 training rows over the clients", () => {
    expect(setup4.test.size).to.equal(2000);
    expect(setup4.validation.size).to.equal(1000);
    expect(setup4.clientData.reduce((total, data) => total + data.size, 0)).to.equal(7000);
    expect(setup4.labelSkew).to.be.greaterThan(0.2);
  });

  it("improves accuracy from the zero model well above chance in 3 rounds × 4 clients", () => {
    const base = zeroModel(785, 10);
    expect(accuracy(base, setup4.test)).to.be.lessThan(0.15);
    const { global, updates } = runRounds(setup4, [HONEST, HONEST, HONEST, HONEST], 3, "softmax");
    const globalAccuracy = accuracy(global, setup4.test);
    expect(globalAccuracy).to.be.greaterThan(0.75);
    // FedAvg of skewed clients beats each client's own model.
    for (const update of updates) expect(accuracy(update.model, setup4.test)).to.be.lessThan(globalAccuracy);
  });

  it("is deterministic: the same seed gives identical Float64Array bytes", () => {
    const base = zeroModel(785, 10);
    const first = contributorUpdate(setup4, 1, HONEST, base, 0, SEED);
    const again = contributorUpdate(mnistFederatedSetup({ seed: SEED, clients: 4 }), 1, HONEST, base, 0, SEED);
    expect(bytesOf(again.model).equals(bytesOf(first.model))).to.equal(true);
    expect(again.sampleCount).to.equal(first.sampleCount);
    const otherRound = contributorUpdate(setup4, 1, HONEST, base, 1, SEED);
    expect(bytesOf(otherRound.model).equals(bytesOf(first.model))).to.equal(false);
    expect(base.weights.every((w) => w === 0)).to.equal(true); // the base model is not modified
  });

  it("a label-flipping client's model is far worse; a free rider returns the base model unchanged", () => {
    const { global } = runRounds(setup4, [HONEST, HONEST, HONEST, HONEST], 1, "softmax");
    const honest = contributorUpdate(setup4, 0, HONEST, global, 1, SEED);
    const poisoned = contributorUpdate(setup4, 0, { kind: "label-flipping", flip: "shift" }, global, 1, SEED);
    expect(accuracy(poisoned.model, setup4.test)).to.be.lessThan(0.2);
    expect(accuracy(poisoned.model, setup4.test)).to.be.lessThan(accuracy(honest.model, setup4.test) - 0.3);
    expect(poisoned.sampleCount).to.equal(honest.sampleCount);

    const rider = contributorUpdate(setup4, 2, { kind: "free-rider", claimedSampleCount: 5000 }, global, 1, SEED);
    expect(bytesOf(rider.model).equals(bytesOf(global))).to.equal(true);
    expect(rider.model.weights).to.not.equal(global.weights); // a copy, not an alias
    expect(rider.sampleCount).to.equal(5000);
  });

  it("with the squared loss, the utility ranks the poisoned client and the free rider below honest ones", () => {
    // The valuation utility is the squared error of X·W. Leave-one-out on it: removing an honest client
    // lowers the coalition's utility, removing the poisoned client or the free rider raises it.
    const setup8 = mnistFederatedSetup({ seed: SEED, clients: 8 });
    const behaviours: ContributorBehaviour[] = [
      HONEST,
      HONEST,
      HONEST,
      HONEST,
      HONEST,
      HONEST,
      { kind: "label-flipping", flip: "shift" },
      { kind: "free-rider" },
    ];
    const { updates } = runRounds(setup8, behaviours, 2, "squared");
    const all = squaredErrorUtility(federatedAverage(updates), setup8.validation);
    const leaveOneOut = updates.map(
      (_, i) => all - squaredErrorUtility(federatedAverage(updates.filter((__, j) => j !== i)), setup8.validation),
    );
    const bestAdversary = Math.max(leaveOneOut[6], leaveOneOut[7]);
    expect(leaveOneOut[6]).to.be.lessThan(0);
    expect(leaveOneOut[7]).to.be.lessThan(0);
    const honestAboveAdversaries = leaveOneOut.slice(0, 6).filter((value) => value > bestAdversary).length;
    expect(honestAboveAdversaries).to.equal(6);
  });
});

describe("ml: evaluation, FedAvg and label flips (exact)", () => {
  // Two 2-feature rows (feature, bias) and 2 classes.
  const tiny: Dataset = {
    features: Float64Array.from([1, 1, 0, 1]),
    labels: Uint8Array.from([0, 1]),
    size: 2,
    dimension: 2,
    classes: 2,
  };

  it("computes accuracy and the squared-error utility by hand", () => {
    const model: LinearModel = { weights: Float64Array.from([2, 0, 0, 1]), dimension: 2, classes: 2 };
    // scores: row0 = [2, 1] → class 0 ✓; row1 = [0, 1] → class 1 ✓
    expect(accuracy(model, tiny)).to.equal(1);
    // residuals: row0 [1, 1], row1 [0, 0] → ‖·‖² = 2, n·c = 4
    expect(squaredErrorUtility(model, tiny)).to.equal(-0.5);
    expect(squaredErrorUtility(zeroModel(2, 2), tiny)).to.equal(-1 / 2); // −1/c for the zero model
  });

  it("FedAvg weights models by sample counts (Flower semantics)", () => {
    const model = (values: number[]): LinearModel => ({ weights: Float64Array.from(values), dimension: 2, classes: 2 });
    const average = federatedAverage([
      { model: model([1, 1, 1, 1]), sampleCount: 1 },
      { model: model([5, 5, 5, 9]), sampleCount: 3 },
    ]);
    expect(Array.from(average.weights)).to.deep.equal([4, 4, 4, 7]);
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 4, maxLength: 4 }), (w) => {
        const same = model(w);
        const averaged = federatedAverage([
          { model: same, sampleCount: 3 },
          { model: same, sampleCount: 11 },
        ]);
        return averaged.weights.every((x, i) => Math.abs(x - w[i]) <= 1e-12 * (1 + Math.abs(w[i])));
      }),
    );
    expect(() => federatedAverage([])).to.throw(InvalidInputError);
    expect(() => federatedAverage([{ model: model([1, 1, 1, 1]), sampleCount: 0 }])).to.throw(
      InvalidInputError,
      /sample count/,
    );
    expect(() =>
      federatedAverage([
        { model: model([1, 1, 1, 1]), sampleCount: 1 },
        { model: zeroModel(3, 2), sampleCount: 1 },
      ]),
    ).to.throw(InvalidInputError, /does not fit/);
  });

  it("flips labels by shift and mirror; rejects bad training options and claims", () => {
    const labels = Uint8Array.from([0, 1, 8, 9]);
    expect(Array.from(flipLabels(labels, 10, "shift"))).to.deep.equal([1, 2, 9, 0]);
    expect(Array.from(flipLabels(labels, 10, "mirror"))).to.deep.equal([9, 8, 1, 0]);
    const random = new SeededRandom(1);
    expect(() => trainLocalModel(tiny, zeroModel(2, 2), { epochs: 0 }, random)).to.throw(InvalidInputError, /epochs 0/);
    expect(() => trainLocalModel(tiny, zeroModel(3, 2), {}, random)).to.throw(InvalidInputError, /base model/);
    expect(() => freeRiderUpdate(zeroModel(2, 2), -1)).to.throw(InvalidInputError, /claimed sample count/);
  });

  it("encodes a model to bytes and back exactly, and names malformed bytes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 6, maxLength: 6 }),
        (w) => {
          const model: LinearModel = { weights: Float64Array.from(w), dimension: 3, classes: 2 };
          const decoded = decodeModel(encodeModel(model));
          return decoded.dimension === 3 && decoded.classes === 2 && bytesOf(decoded).equals(bytesOf(model));
        },
      ),
    );
    const encoded = encodeModel(zeroModel(785, 10));
    expect(encoded.length).to.equal(12 + 7850 * 8);
    expect(() => decodeModel(encoded.subarray(0, 100))).to.throw(InvalidInputError, /wrong length/);
    expect(() => decodeModel(new Uint8Array(20))).to.throw(InvalidInputError, /not an encoded model/);
  });
});
