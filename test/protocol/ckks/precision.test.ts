import { expect } from "chai";
import { decryptEnvelopeValues, encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { modelUpdateFromArray, type ModelUpdate } from "@ciphershare/protocol/formats/model-update";
import { keyedContext, maxAbsError, sampleUpdate } from "../../support/ckks";

describe("CKKS round-trip precision", () => {
  const cases = [
    { set: "fast-v1", magnitude: 1, bound: 1e-7 },
    { set: "fast-v1", magnitude: 1000, bound: 1e-7 },
    { set: "deep-v1", magnitude: 1, bound: 1e-9 },
    { set: "deep-v2", magnitude: 1, bound: 1e-14 },
    { set: "deep-v2", magnitude: 1000, bound: 1e-11 },
  ];
  for (const { set, magnitude, bound } of cases) {
    it(`${set}: a model update with values up to ${magnitude} decrypts within ${bound}`, async function () {
      const { ctx, bundle, secret } = await keyedContext(set);
      const values = sampleUpdate(2 * ctx.slotCount + 123, 7, magnitude / 10);
      const update: ModelUpdate = {
        tensors: [
          { name: "conv.weight", shape: [3, 41] },
          { name: "fc.weight", shape: [2 * ctx.slotCount] },
        ],
        values,
      };
      const envelope = await encryptModelUpdate(ctx, bundle, update);
      const parsed = await parseEnvelope(envelope, { parameterSetId: set });
      expect(parsed.header.chunkCount).to.equal(3);
      expect(parsed.header.tensors).to.deep.equal(update.tensors);
      const decrypted = decryptEnvelopeValues(ctx, parsed, secret.decryptor);
      expect(decrypted.length).to.equal(values.length);
      const error = maxAbsError(decrypted, values);
      this.test!.title += ` [max abs error ${error.toExponential(2)}]`;
      expect(error).to.be.below(bound);
    });
  }

  it("encrypts 1-element and exactly-one-chunk updates", async () => {
    const { ctx, bundle, secret } = await keyedContext("fast-v1");
    for (const length of [1, ctx.slotCount]) {
      const values = sampleUpdate(length, length);
      const parsed = await parseEnvelope(await encryptModelUpdate(ctx, bundle, modelUpdateFromArray(values)));
      expect(parsed.header.chunkCount).to.equal(1);
      expect(maxAbsError(decryptEnvelopeValues(ctx, parsed, secret.decryptor), values)).to.be.below(1e-7);
    }
  });
});
