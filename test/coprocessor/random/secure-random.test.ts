import { expect } from "chai";
import { SecureRandom } from "../../../coprocessor/src/random/secure-random";
import { SeededRandom } from "../../../coprocessor/src/random/seeded-random";

describe("random/secure-random", () => {
  it("draws floats in [0, 1) and standard normals from the CSPRNG, past its 4 KB buffer", () => {
    const random = new SecureRandom();
    const floats = Array.from({ length: 5000 }, () => random.nextFloat());
    expect(floats.every((x) => x >= 0 && x < 1)).to.equal(true);
    const mean = floats.reduce((a, b) => a + b, 0) / floats.length;
    expect(mean).to.be.closeTo(0.5, 0.03);
    const normals = Array.from({ length: 5000 }, () => random.nextNormal());
    const normalMean = normals.reduce((a, b) => a + b, 0) / normals.length;
    const variance = normals.reduce((a, b) => a + (b - normalMean) ** 2, 0) / normals.length;
    expect(normalMean).to.be.closeTo(0, 0.08);
    expect(variance).to.be.closeTo(1, 0.1);
  });

  it("is never reproducible, unlike a seeded source sharing the same float and normal code", () => {
    const a = new SecureRandom();
    const b = new SecureRandom();
    expect(a.nextFloat()).to.not.equal(b.nextFloat());
    expect(new SeededRandom(7).nextNormal()).to.equal(new SeededRandom(7).nextNormal());
  });
});
