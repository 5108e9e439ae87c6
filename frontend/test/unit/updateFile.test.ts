import { describe, expect, it } from "vitest";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import { serializeSafetensors } from "@ciphershare/protocol/formats/safetensors";
import { asRoundModel, checkUpdateFile, MAX_UPDATE_FILE_BYTES, readUpdateFile } from "../../src/contribute/updateFile";

describe("checkUpdateFile", () => {
  it.each([
    ["update.npy", "npy"],
    ["Model.SafeTensors", "safetensors"],
    ["delta.round3.json", "json"],
  ])("accepts %s as %s", (name, format) => {
    expect(checkUpdateFile({ name, size: 100 })).toEqual({ ok: true, format });
  });

  it("names the accepted formats for another extension", () => {
    expect(checkUpdateFile({ name: "weights.pt", size: 100 })).toEqual({
      ok: false,
      message: "weights.pt is not a model update: choose a .npy, .safetensors, .json file.",
    });
  });

  it("rejects an empty file", () => {
    expect(checkUpdateFile({ name: "a.json", size: 0 })).toEqual({ ok: false, message: "a.json is empty." });
  });

  it("accepts the limit and rejects one byte more, saying the size and the limit", () => {
    expect(checkUpdateFile({ name: "a.npy", size: MAX_UPDATE_FILE_BYTES }).ok).toBe(true);
    const tooBig = checkUpdateFile({ name: "a.npy", size: MAX_UPDATE_FILE_BYTES + 1 });
    expect(tooBig.ok).toBe(false);
    if (!tooBig.ok) expect(tooBig.message).toMatch(/a\.npy is 256 MiB; the limit is 256 MiB/);
  });
});

describe("readUpdateFile", () => {
  const file = (name: string, bytes: Uint8Array | string) => new File([bytes as BlobPart], name);

  it("reads .npy, .safetensors and JSON with the coprocessor's readers and counts ciphertexts", async () => {
    const values = Float64Array.from({ length: 10_000 }, (_, i) => i / 10_000);
    const npy = await readUpdateFile(file("delta.npy", serializeNpy(values, [100, 100])));
    expect(npy.ok && npy.summary).toEqual({
      valueCount: 10_000,
      tensors: [{ name: "delta", shape: [100, 100] }],
      ciphertextCount: 2,
    });
    if (npy.ok) expect(npy.update.values).toEqual(values);

    const safetensors = await readUpdateFile(
      file(
        "model.safetensors",
        serializeSafetensors({
          tensors: [
            { name: "fc.weight", shape: [2, 3] },
            { name: "fc.bias", shape: [2] },
          ],
          values: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
        }),
      ),
    );
    expect(safetensors.ok && safetensors.summary.valueCount).toBe(8);
    expect(safetensors.ok && safetensors.summary.tensors.map((t) => t.name).sort()).toEqual(["fc.bias", "fc.weight"]);

    const json = await readUpdateFile(file("update.json", JSON.stringify({ values: [0.1, -0.2, 0.3] })));
    expect(json.ok && json.summary).toEqual({
      valueCount: 3,
      tensors: [{ name: "values", shape: [3] }],
      ciphertextCount: 1,
    });
  });

  it("says what is wrong with a malformed file, naming it", async () => {
    const broken = await readUpdateFile(file("update.json", "{ not json"));
    expect(broken).toEqual({
      ok: false,
      message: expect.stringMatching(/^update\.json: Not a readable model update: invalid JSON\./),
    });
    const ragged = await readUpdateFile(file("update.json", "[[1, 2], [3]]"));
    expect(ragged.ok).toBe(false);
    const notNpy = await readUpdateFile(file("delta.npy", new Uint8Array([1, 2, 3, 4])));
    expect(notNpy.ok).toBe(false);
    if (!notNpy.ok) expect(notNpy.message).toMatch(/^delta\.npy: /);
    const wrongType = await readUpdateFile(file("weights.pt", "x"));
    expect(wrongType).toEqual({
      ok: false,
      message: "weights.pt is not a model update: choose a .npy, .safetensors, .json file.",
    });
  });
});

describe("asRoundModel", () => {
  it("names a single 2-D tensor the way a round's envelopes do, and leaves other layouts alone", () => {
    const values = new Float64Array(6);
    expect(asRoundModel({ tensors: [{ name: "model", shape: [3, 2] }], values }).tensors).toEqual([
      { name: "weights", shape: [3, 2] },
    ]);
    const flat = { tensors: [{ name: "values", shape: [6] }], values };
    expect(asRoundModel(flat)).toBe(flat);
    const two = {
      tensors: [
        { name: "a", shape: [1, 3] },
        { name: "b", shape: [1, 3] },
      ],
      values,
    };
    expect(asRoundModel(two)).toBe(two);
  });
});
