import { expect } from "chai";
import { matrix } from "@ciphershare/protocol/linalg/matrix";
import { matvecPlan, requiredGaloisSteps } from "@ciphershare/coprocessor/shapley/encrypted/layout";
import { parseProjectionKeyProfile, shapleyGaloisSteps } from "@ciphershare/coprocessor/shapley/encrypted/key-profile";
import {
  MissingRotationKeyError,
  projectionKeySwitches,
  rotationKeySwitches,
  rotationSchedule,
} from "@ciphershare/coprocessor/shapley/encrypted/rotations";

/** A dense upper-triangular d×d R: every diagonal non-zero, as the rounds' keys assume. */
function denseR(d: number) {
  const r = matrix(d, d);
  for (let row = 0; row < d; row++) for (let col = row; col < d; col++) r.data[row * d + col] = 1;
  return r;
}

describe("shapley: Galois key profiles and composed rotations", () => {
  const SLOTS = 8192; // N = 16384
  const mnist = matvecPlan(denseR(785), 10, SLOTS);

  it("MNIST shape: 'computed' needs 69 keys, 'submitted' the 13 positive powers of two and the conjugation", () => {
    const computed = shapleyGaloisSteps(mnist, "computed");
    const submitted = shapleyGaloisSteps(mnist, "submitted");
    expect(computed).to.deep.equal(requiredGaloisSteps(mnist));
    expect(computed).to.have.length(69);
    expect(submitted).to.deep.equal([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);
    expect(submitted.every((step) => computed.includes(step))).to.equal(true);
  });

  it("a step with its own key is one key switch; otherwise its binary decomposition, ascending", () => {
    const powers = shapleyGaloisSteps(mnist, "submitted");
    expect(rotationSchedule(270, [...powers, 270])).to.deep.equal([270]);
    expect(rotationSchedule(270, powers)).to.deep.equal([2, 4, 8, 256]);
    expect(rotationSchedule(7840, powers)).to.deep.equal([32, 128, 512, 1024, 2048, 4096]);
    expect(rotationSchedule(64, powers)).to.deep.equal([64]);
    for (let step = 1; step < SLOTS; step += 37) {
      const schedule = rotationSchedule(step, powers);
      expect(schedule.reduce((a, b) => a + b, 0)).to.equal(step);
      expect(schedule).to.have.length(rotationKeySwitches(step, powers));
    }
  });

  it("refuses what the keys cannot compose, naming the step and the missing key", () => {
    expect(() => rotationSchedule(6, [1, 2])).to.throw(MissingRotationKeyError, /step 6 needs a key for 4/);
    expect(() => rotationSchedule(0, [1, 2])).to.throw(MissingRotationKeyError, /step 0/);
    expect(() => rotationSchedule(-2, [1, 2, -2])).to.throw(MissingRotationKeyError, /positive/);
    expect(() => parseProjectionKeyProfile("fast")).to.throw(/"fast"; expected one of submitted, computed/);
    expect(parseProjectionKeyProfile("submitted")).to.equal("submitted");
  });

  it("counts the projection's key switches per key set (the flooding bound's inputs)", () => {
    expect(projectionKeySwitches(mnist, shapleyGaloisSteps(mnist, "computed"))).to.deep.equal({
      babyMax: 1,
      giantTotal: mnist.giantSteps.length,
    });
    const composed = projectionKeySwitches(mnist, shapleyGaloisSteps(mnist, "submitted"));
    const popcount = (x: number) => x.toString(2).replace(/0/g, "").length;
    expect(composed).to.deep.equal({
      babyMax: Math.max(...mnist.babySteps.map(popcount)),
      giantTotal: mnist.giantSteps.reduce((sum, step) => sum + popcount(step), 0),
    });
    expect(composed.babyMax).to.be.above(1);
  });
});
