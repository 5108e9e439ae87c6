import { expect } from "chai";
import { ValuationMethod } from "@ciphershare/protocol/chain/constants";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { decodeRoundManifest, type RoundManifest } from "@ciphershare/protocol/records/round-manifest";
import {
  modelTensors,
  ROUND_MODEL_TENSOR,
  ROUND_PARAMETER_SET_ID,
  roundConfig,
  RoundConfigError,
  toRoundLayout,
} from "@ciphershare/protocol/round/config";

describe("round/config: one validated configuration per round", () => {
  const manifest: RoundManifest = {
    kind: "ciphershare.round",
    version: 1,
    baseModel: `0x${"11".repeat(32)}`,
    validation: `0x${"22".repeat(32)}`,
    parameterSet: ROUND_PARAMETER_SET_ID,
    dimension: 785,
    classes: 10,
  };

  it("reads the parameter set, the model layout, the valuation and the score release from the manifest", () => {
    const config = roundConfig({ ...manifest, scoreRelease: "public" }, ValuationMethod.ExactShapley);
    expect(config.parameterSet.id).to.equal("deep-v2");
    expect(config.tensors).to.deep.equal([{ name: ROUND_MODEL_TENSOR, shape: [785, 10] }]);
    expect(config.scoreRelease).to.equal("public");
    expect(roundConfig(manifest, ValuationMethod.ExactShapley).scoreRelease).to.equal("private");
    expect(config).to.include({ baseModel: manifest.baseModel, validation: manifest.validation });
  });

  it("carries the validation factor R's hash when the manifest names one (a 32-byte hash), none otherwise", () => {
    const factor = `0x${"33".repeat(32)}` as const;
    const encoded = (value: object) => new TextEncoder().encode(JSON.stringify(value));
    const config = roundConfig(
      decodeRoundManifest(encoded({ ...manifest, projectionFactor: factor })),
      ValuationMethod.ExactShapley,
    );
    expect(config.projectionFactor).to.equal(factor);
    expect(roundConfig(manifest, ValuationMethod.ExactShapley).projectionFactor).to.equal(undefined);
    expect(() => decodeRoundManifest(encoded({ ...manifest, projectionFactor: "0x12" }))).to.throw(
      /projectionFactor must be a 32-byte hash/,
    );
  });

  it("refuses, naming the value, what no role could run", () => {
    const refused = (changed: Partial<RoundManifest>, method: number = ValuationMethod.ExactShapley) => {
      try {
        roundConfig({ ...manifest, ...changed } as RoundManifest, method);
      } catch (error) {
        expect(error).to.be.instanceOf(RoundConfigError);
        return (error as RoundConfigError).message;
      }
      throw new Error("accepted");
    };
    expect(refused({ parameterSet: "huge-v9" })).to.match(/unknown CKKS parameter set[\s\S]*huge-v9/);
    expect(refused({ parameterSet: "fast-v1" })).to.match(/too shallow[\s\S]*fast-v1/);
    expect(refused({ dimension: 0 })).to.match(/model shape/);
    expect(refused({ dimension: 1000, classes: 10 })).to.match(/does not fit one ciphertext[\s\S]*10000 values > 8192/);
    expect(refused({}, 2)).to.match(/valuation method[\s\S]*method 2/);
  });

  describe("toRoundLayout: the contributor's update in the round's layout", () => {
    const config = { dimension: 3, classes: 2, tensors: modelTensors(3, 2) };
    const values = Float64Array.from([1, 2, 3, 4, 5, 6]);

    it("keeps an update already in the layout, and names a single d×c or flat d·c tensor as the round's model", () => {
      const inLayout = { tensors: modelTensors(3, 2), values };
      expect(toRoundLayout(inLayout, config)).to.equal(inLayout);
      for (const shape of [[3, 2], [6]]) {
        const fitted = toRoundLayout({ tensors: [{ name: "update", shape }], values }, config);
        expect(fitted.tensors).to.deep.equal(modelTensors(3, 2));
        expect(fitted.values).to.equal(values);
      }
    });

    it("refuses another shape with as many values, or several tensors, naming both layouts", () => {
      for (const tensors of [
        [{ name: "update", shape: [2, 3] }],
        [
          { name: "a", shape: [3] },
          { name: "b", shape: [3] },
        ],
      ]) {
        expect(() => toRoundLayout({ tensors, values }, config)).to.throw(
          InvalidInputError,
          /round's model shape[\s\S]*the round's model is weights\[3×2\]/,
        );
      }
      expect(() =>
        toRoundLayout({ tensors: [{ name: "update", shape: [4] }], values: values.subarray(0, 4) }, config),
      ).to.throw(InvalidInputError, /update\[4\] \(4 values\)/);
    });
  });
});
