import { expect } from "chai";
import { modelUpdateFromArray } from "@ciphershare/protocol/formats/model-update";
import { serializeModelJson } from "@ciphershare/protocol/formats/json";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import { modelUpdateFormatOf, parseModelUpdate } from "@ciphershare/protocol/formats/read";
import { serializeSafetensors } from "@ciphershare/protocol/formats/safetensors";

// The one reader behind the CLI's `--update` and the web app's file picker.
describe("model update files by format", () => {
  it("tells the format from the file name, in any case, and nothing else", () => {
    expect(["a.npy", "B.SafeTensors", "c.JSON", "x.pt", "npy", "d.npy.bak"].map(modelUpdateFormatOf)).to.deep.equal([
      "npy",
      "safetensors",
      "json",
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("parses each format to the same update, naming a .npy's array as asked", () => {
    const update = modelUpdateFromArray([0.5, -1, 2, 3], [2, 2], "w");
    expect(parseModelUpdate(serializeNpy(update.values, [2, 2]), "npy", "w")).to.deep.equal(update);
    expect(parseModelUpdate(serializeNpy(update.values, [2, 2]), "npy").tensors[0].name).to.equal("update");
    expect(parseModelUpdate(serializeSafetensors(update), "safetensors")).to.deep.equal(update);
    expect(parseModelUpdate(new TextEncoder().encode(serializeModelJson(update)), "json")).to.deep.equal(update);
  });
});
