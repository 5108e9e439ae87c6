import { describe, expect, it } from "vitest";
import { checkUpdateFile, MAX_UPDATE_FILE_BYTES } from "../../src/contribute/updateFile";

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
