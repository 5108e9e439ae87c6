import { expect } from "chai";

describe("toolchain", () => {
  it("runs on Node 22 and loads node-seal", async () => {
    expect(Number(process.versions.node.split(".")[0])).to.be.at.least(22);
    const { default: SEAL } = await import("node-seal");
    const seal = await SEAL();
    expect(seal.SchemeType.ckks).to.not.equal(undefined);
  });
});
