import { expect } from "chai";
import {
  buildEnvelope,
  ciphertextByteLength,
  EnvelopeError,
  EnvelopeKind,
  parseEnvelope,
} from "@ciphershare/protocol/ckks/envelope";
import { getParameterSet } from "@ciphershare/protocol/ckks/params";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import { matrix, upperTriangularFactor } from "@ciphershare/protocol/linalg/matrix";
import {
  decodeProjectionFactor,
  encodeProjectionFactor,
  projectionFactorBytes,
  validationFactor,
} from "@ciphershare/protocol/records/projection-factor";
import { modelTensors, ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import {
  modelEnvelope,
  projectionTensors,
  roundContribution,
  withProjection,
} from "@ciphershare/protocol/round/contribution";

describe("round contributions with their projection R·w", () => {
  const set = getParameterSet(ROUND_PARAMETER_SET_ID);
  const config = { dimension: 785, classes: 10, parameterSet: set };
  const bundleHash = `0x${"11".repeat(32)}` as const;

  describe("the published validation factor R", () => {
    const x = matrix(
      7,
      4,
      Array.from({ length: 28 }, (_, i) => Math.sin(i + 1)),
    );

    it("round-trips the upper triangle bit for bit, at d(d+1)/2 float64s", () => {
      const r = upperTriangularFactor(x);
      const bytes = encodeProjectionFactor(r);
      expect(bytes.length)
        .to.equal(projectionFactorBytes(4))
        .and.equal(8 + 10 * 8);
      expect(Buffer.from(decodeProjectionFactor(bytes, 4).data.buffer).equals(Buffer.from(r.data.buffer))).to.equal(
        true,
      );
      // The MNIST round's R: 2.47 MB, against 63 MB for the validation set it comes from.
      expect(projectionFactorBytes(785)).to.equal(2_468_048);
      const dataset = { features: x.data, labels: new Uint8Array(7), size: 7, dimension: 4, classes: 2 };
      expect(validationFactor(dataset).data).to.deep.equal(r.data);
    });

    it("refuses another dimension, a truncated blob, a non-finite entry or a lower-triangular value, naming it", () => {
      const bytes = encodeProjectionFactor(upperTriangularFactor(x));
      expect(() => decodeProjectionFactor(bytes, 5)).to.throw(/round's dimension[\s\S]*factor d = 4/);
      expect(() => decodeProjectionFactor(bytes.subarray(0, bytes.length - 8), 4)).to.throw(/round's dimension/);
      expect(() => decodeProjectionFactor(new TextEncoder().encode("CSM1...."), 4)).to.throw(/not an encoded/);
      const bad = Uint8Array.from(bytes);
      new DataView(bad.buffer).setFloat64(8 + 8, Number.NaN, true);
      expect(() => decodeProjectionFactor(bad, 4)).to.throw(/non-finite[\s\S]*R\[0\]\[1\]/);
      const lower = matrix(2, 2, [1, 0, 3, 1]);
      expect(() => encodeProjectionFactor(lower)).to.throw(/upper-triangular[\s\S]*R\[1\]\[0\] = 3/);
    });
  });

  describe("the envelope layouts", () => {
    const chunk = (fill: number) =>
      new Uint8Array(ciphertextByteLength(set, set.coeffModulusBits.length - 1)).fill(fill);
    const envelope = (tensors: TensorSpec[], chunks: Uint8Array[]) =>
      buildEnvelope(
        {
          kind: EnvelopeKind.Contribution,
          parameterSet: set,
          publicBundleHash: bundleHash,
          scale: set.scale,
          coeffModulusSize: set.coeffModulusBits.length - 1,
          ciphertextSize: 2,
          tensors,
        },
        chunks,
      );

    it("puts the projection at the start of its own ciphertext, after zero padding", () => {
      expect(projectionTensors(config)).to.deep.equal([
        { name: "weights", shape: [785, 10] },
        { name: "padding", shape: [set.slotCount - 7850] },
        { name: "projection", shape: [785, 10] },
      ]);
      const w = new Float64Array(7850).map((_, i) => i);
      const z = new Float64Array(7850).map((_, i) => -i);
      const update = withProjection({ tensors: modelTensors(785, 10), values: w }, z, config);
      expect(update.values.length).to.equal(set.slotCount + 7850);
      expect(update.values.subarray(7850, set.slotCount).every((v) => v === 0)).to.equal(true);
      expect(update.values.subarray(set.slotCount)).to.deep.equal(z);
      expect(() => withProjection({ tensors: [{ name: "model", shape: [7850] }], values: w }, z, config)).to.throw(
        /round's layout only/,
      );
      expect(() => withProjection({ tensors: modelTensors(785, 10), values: w }, z.subarray(1), config)).to.throw(
        /7849 values, model 785×10/,
      );
    });

    it("reads layout 1 and layout 2, and the model part of either is the same layout-1 envelope", async () => {
      const one = await envelope(modelTensors(785, 10), [chunk(1)]);
      const two = await envelope(projectionTensors(config), [chunk(1), chunk(2)]);
      const parsedOne = await parseEnvelope(one);
      const parsedTwo = await parseEnvelope(two);
      const readOne = roundContribution(parsedOne, config);
      expect(readOne.layout).to.equal(1);
      expect(readOne.projection).to.equal(undefined);
      const read = roundContribution(parsedTwo, config);
      expect(read.layout).to.equal(2);
      expect(read.model.every((b) => b === 1) && read.projection!.every((b) => b === 2)).to.equal(true);
      expect(await modelEnvelope(one, parsedOne, config)).to.equal(one);
      expect(Buffer.from(await modelEnvelope(two, parsedTwo, config)).equals(Buffer.from(one))).to.equal(true);
    });

    it("refuses a projection anywhere else, or other tensors, naming both layouts (Malformed, not a crash)", async () => {
      const misplaced = await envelope(
        [
          { name: "weights", shape: [785, 10] },
          { name: "projection", shape: [785, 10] },
        ],
        [chunk(1), chunk(2)],
      );
      const wrongPadding = await envelope(
        [
          { name: "weights", shape: [785, 10] },
          { name: "padding", shape: [set.slotCount - 7850 - 1] },
          { name: "projection", shape: [785, 10] },
        ],
        [chunk(1), chunk(2)],
      );
      for (const bytes of [misplaced, wrongPadding]) {
        const parsed = await parseEnvelope(bytes);
        expect(() => roundContribution(parsed, config))
          .to.throw(EnvelopeError, /projection tensor is not where/)
          .with.property("details")
          .that.matches(/the round takes weights\[785×10\] or weights\[785×10\], padding\[342\], projection\[785×10\]/);
      }
      const other = await parseEnvelope(await envelope([{ name: "model", shape: [7850] }], [chunk(1)]));
      expect(() => roundContribution(other, config)).to.throw(/not the round's model/);
    });
  });
});
