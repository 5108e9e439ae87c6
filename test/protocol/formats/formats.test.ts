import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import {
  ModelFormatError,
  modelUpdateFromArray,
  splitTensors,
  validateModelUpdate,
} from "@ciphershare/protocol/formats/model-update";
import { parseModelJson, serializeModelJson } from "@ciphershare/protocol/formats/json";
import { parseNpy, serializeNpy } from "@ciphershare/protocol/formats/npy";
import { parseSafetensors, serializeSafetensors } from "@ciphershare/protocol/formats/safetensors";
import { readModelUpdateFile } from "@ciphershare/coprocessor/storage/model-update-file";
import { rejectionOf } from "../../support/rejection";

const fixture = (name: string) => new Uint8Array(readFileSync(join(__dirname, "fixtures", name)));

describe("model update formats", () => {
  describe(".npy", () => {
    it("reads NumPy float32 1-D, float64 2-D and big-endian files", () => {
      const f32 = parseNpy(fixture("float32-1d.npy"));
      expect(f32.tensors).to.deep.equal([{ name: "update", shape: [4] }]);
      expect(Array.from(f32.values)).to.deep.equal([0.5, -1.25, 3.0, Math.fround(1e-3)]);
      const f64 = parseNpy(fixture("float64-2d.npy"), "w");
      expect(f64.tensors).to.deep.equal([{ name: "w", shape: [2, 3] }]);
      expect(Array.from(f64.values)).to.deep.equal([0, 1, 2, 3, 4, 5].map((i) => i / 8 - 0.25));
      expect(Array.from(parseNpy(fixture("float64-be.npy")).values)).to.deep.equal([1.5, -2.5]);
    });

    it("rejects other dtypes, Fortran order, truncation and padding by name", () => {
      expect(() => parseNpy(fixture("int32.npy"))).to.throw(ModelFormatError, /float32 or float64[\s\S]*<i4/);
      expect(() => parseNpy(fixture("fortran.npy"))).to.throw(ModelFormatError, /Fortran/);
      const good = fixture("float64-2d.npy");
      expect(() => parseNpy(good.subarray(0, good.length - 1))).to.throw(ModelFormatError, /data length/);
      expect(() => parseNpy(concat(good, Uint8Array.of(0)))).to.throw(ModelFormatError, /data length/);
      expect(() => parseNpy(Uint8Array.of(1, 2, 3))).to.throw(ModelFormatError, /magic/);
    });

    it("writes files it reads back (float64, C order, 64-byte aligned header)", () => {
      const values = Float64Array.from([1, -2, 3.5, 1e-300, 6, 7]);
      const bytes = serializeNpy(values, [3, 2]);
      expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).to.equal(0);
      const back = parseNpy(bytes);
      expect(back.tensors[0].shape).to.deep.equal([3, 2]);
      expect(Array.from(back.values)).to.deep.equal(Array.from(values));
    });
  });

  describe(".safetensors", () => {
    it("reads a PyTorch-style F32 state dict with tensors ordered by name", () => {
      const update = parseSafetensors(fixture("model-f32.safetensors"));
      expect(update.tensors).to.deep.equal([
        { name: "layer.bias", shape: [2] },
        { name: "layer.weight", shape: [2, 2] },
      ]);
      expect(Array.from(update.values)).to.deep.equal([0.5, -0.5, 1, 2, 3, 4]);
      expect(splitTensors(update).map((t) => Array.from(t.values))).to.deep.equal([
        [0.5, -0.5],
        [1, 2, 3, 4],
      ]);
    });

    it("round-trips F64 and decodes F16 and BF16", () => {
      const update = {
        tensors: [
          { name: "b", shape: [2] },
          { name: "a", shape: [1, 3] },
        ],
        values: Float64Array.from([1, 2, 3, 4, 5]),
      };
      const back = parseSafetensors(serializeSafetensors(update));
      expect(back.tensors.map((t) => t.name)).to.deep.equal(["a", "b"]);
      expect(Array.from(back.values)).to.deep.equal([3, 4, 5, 1, 2]);
      // 1.5 = 0x3E00 in F16 and 0x3FC0 in BF16; -2 = 0xC000 in both
      const half = handMadeSafetensors("F16", [0x3e00, 0xc000]);
      expect(Array.from(parseSafetensors(half).values)).to.deep.equal([1.5, -2]);
      const bf16 = handMadeSafetensors("BF16", [0x3fc0, 0xc000]);
      expect(Array.from(parseSafetensors(bf16).values)).to.deep.equal([1.5, -2]);
    });

    it("rejects bad headers, offsets, holes and dtypes", () => {
      const good = fixture("model-f32.safetensors");
      expect(() => parseSafetensors(good.subarray(0, good.length - 4))).to.throw(ModelFormatError, /data_offsets/);
      expect(() => parseSafetensors(concat(good, Uint8Array.of(0, 0, 0, 0)))).to.throw(ModelFormatError, /trailing/);
      const huge = good.slice();
      new DataView(huge.buffer).setBigUint64(0, 2n ** 60n, true);
      expect(() => parseSafetensors(huge)).to.throw(ModelFormatError, /header length/);
      expect(() => parseSafetensors(handMadeSafetensors("I32", [0, 0]))).to.throw(ModelFormatError, /dtype/);
      const hole = rawSafetensors({ x: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8);
      expect(() => parseSafetensors(hole)).to.throw(ModelFormatError, /hole/);
      const notJson = rawSafetensorsText("{nope", 0);
      expect(() => parseSafetensors(notJson)).to.throw(ModelFormatError, /JSON/);
    });
  });

  describe("JSON", () => {
    it("reads a nested array and an object of named arrays", () => {
      const single = parseModelJson("[[1, 2, 3], [4, 5, 6]]");
      expect(single.tensors).to.deep.equal([{ name: "update", shape: [2, 3] }]);
      const named = parseModelJson('{"fc.weight": [[1, 2]], "fc.bias": [0.5]}');
      expect(named.tensors).to.deep.equal([
        { name: "fc.weight", shape: [1, 2] },
        { name: "fc.bias", shape: [1] },
      ]);
      expect(Array.from(named.values)).to.deep.equal([1, 2, 0.5]);
      expect(parseModelJson(serializeModelJson(named))).to.deep.equal(named);
    });

    it("rejects ragged arrays, non-numbers and empty updates", () => {
      expect(() => parseModelJson("[[1, 2], [3]]")).to.throw(ModelFormatError, /not rectangular/);
      expect(() => parseModelJson('[1, "2"]')).to.throw(ModelFormatError, /non-number/);
      expect(() => parseModelJson("[]")).to.throw(ModelFormatError, /no values/);
      expect(() => parseModelJson("{")).to.throw(ModelFormatError, /invalid JSON/);
      expect(() => parseModelJson("7")).to.throw(ModelFormatError, /not an array/);
    });
  });

  it("reads files by extension and refuses unknown types", async () => {
    const npy = await readModelUpdateFile(join(__dirname, "fixtures", "float64-2d.npy"));
    expect(npy.tensors[0].shape).to.deep.equal([2, 3]);
    const st = await readModelUpdateFile(join(__dirname, "fixtures", "model-f32.safetensors"));
    expect(st.tensors).to.have.length(2);
    for (const path of ["update.csv", join(__dirname, "fixtures", "missing.npy")]) {
      await rejectionOf(readModelUpdateFile(path), ModelFormatError);
    }
  });

  it("refuses non-finite values, naming the tensor and element", () => {
    expect(() =>
      validateModelUpdate({
        tensors: [
          { name: "a", shape: [2] },
          { name: "b", shape: [2] },
        ],
        values: Float64Array.from([1, 2, 3, Infinity]),
      }),
    ).to.throw(ModelFormatError, /tensor "b", element 1/);
    expect(() => modelUpdateFromArray([1, 2, 3], [2, 2])).to.throw(ModelFormatError, /do not match/);
  });

  it("round-trips arbitrary shapes through every format (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        (shape, seed) => {
          const size = shape.reduce((a, b) => a * b, 1);
          const values = Float64Array.from({ length: size }, (_, i) => seed / (i + 1));
          const update = modelUpdateFromArray(values, shape);
          expect(parseNpy(serializeNpy(values, shape)).values).to.deep.equal(values);
          expect(parseSafetensors(serializeSafetensors(update)).values).to.deep.equal(values);
          expect(parseModelJson(serializeModelJson(update)).tensors[0].shape).to.deep.equal(shape);
        },
      ),
      { numRuns: 200 },
    );
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function handMadeSafetensors(dtype: string, halfWords: number[]): Uint8Array {
  const data = new Uint8Array(halfWords.length * 2);
  halfWords.forEach((w, i) => new DataView(data.buffer).setUint16(2 * i, w, true));
  return concat(rawSafetensors({ t: { dtype, shape: [halfWords.length], data_offsets: [0, data.length] } }, 0), data);
}

function rawSafetensors(header: object, dataBytes: number): Uint8Array {
  return rawSafetensorsText(JSON.stringify(header), dataBytes);
}

function rawSafetensorsText(json: string, dataBytes: number): Uint8Array {
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  return out;
}
