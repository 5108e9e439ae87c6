import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import { readNpyMatrix } from "../../scripts/cli/commands/provider";

describe("provider submit: reading rows and labels from .npy", () => {
  const dir = mkdtempSync(join(tmpdir(), "ciphershare-npy-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, values: number[], shape: number[]) => {
    const path = join(dir, name);
    writeFileSync(path, serializeNpy(Float64Array.from(values), shape));
    return path;
  };

  it("reads a 2-D array as a matrix", async () => {
    const m = await readNpyMatrix(file("x.npy", [1, 2, 3, 4, 5, 6], [3, 2]), "--data");
    expect([m.rows, m.cols, Array.from(m.data)]).to.deep.equal([3, 2, [1, 2, 3, 4, 5, 6]]);
  });

  it("one-hot encodes integer labels over c outputs; a label that is no class becomes NaN (refused downstream)", async () => {
    const y = await readNpyMatrix(file("y.npy", [2, 0, 1.5], [3]), "--labels", 3);
    expect([y.rows, y.cols]).to.deep.equal([3, 3]);
    expect(Array.from(y.data.subarray(0, 6))).to.deep.equal([0, 0, 1, 1, 0, 0]);
    expect(Number.isNaN(y.data[6])).to.equal(true);
  });

  it("refuses another extension, a missing file and a 3-D array, naming the flag", async () => {
    const fails = (promise: Promise<unknown>) =>
      promise.then(
        () => "",
        (error: Error) => error.message,
      );
    expect(await fails(readNpyMatrix(join(dir, "x.csv"), "--data"))).to.match(/--data must be a \.npy file/);
    expect(await fails(readNpyMatrix(join(dir, "missing.npy"), "--data"))).to.match(/Cannot read --data/);
    expect(await fails(readNpyMatrix(file("z.npy", [1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]), "--labels"))).to.match(
      /--labels must be a 1-D or 2-D array/,
    );
  });
});
