import { expect } from "chai";

import { labelCounts } from "@ciphershare/protocol/records/dataset";
import { MNIST_DIMENSION, MNIST_PIXELS, loadMnist } from "@ciphershare/coprocessor/simulation/mnist";

describe("ml/mnist", () => {
  it("loads the 10 000 real digits of the mnist package with pixels in [0, 1] and a bias column", () => {
    const data = loadMnist();
    expect(data.size).to.equal(10_000);
    expect(data.dimension).to.equal(MNIST_DIMENSION).and.to.equal(785);
    expect(data.classes).to.equal(10);
    expect(labelCounts(data.labels, 10)).to.deep.equal([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let inked = 0;
    for (let row = 0; row < data.size; row++) {
      const offset = row * MNIST_DIMENSION;
      expect(data.features[offset + MNIST_PIXELS]).to.equal(1);
      let rowInk = 0;
      for (let pixel = 0; pixel < MNIST_PIXELS; pixel++) {
        const value = data.features[offset + pixel];
        if (value < 0 || value > 1) throw new Error(`pixel out of range at row ${row}: ${value}`);
        rowInk += value;
      }
      if (rowInk > 20) inked += 1; // a handwritten digit covers roughly 100–200 pixels
    }
    expect(inked).to.be.greaterThan(9_900);
    expect(loadMnist()).to.equal(data); // cached
  });
});
