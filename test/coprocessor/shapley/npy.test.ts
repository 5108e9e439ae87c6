import { expect } from "chai";
import { matrix } from "../../../coprocessor/src/shapley/matrix";
import { parseNpy, serializeNpy } from "../../../coprocessor/src/shapley/npy";
import { InvalidInputError } from "../../../coprocessor/src/errors/base";

function npy(header: string, body: Uint8Array): Uint8Array {
  const padded = header + " ".repeat((64 - ((10 + header.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + padded.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, padded.length, true);
  out.set(new TextEncoder().encode(padded), 10);
  out.set(body, 10 + padded.length);
  return out;
}

describe("shapley: .npy reader", () => {
  it("round-trips float64 matrices and reads float32 vectors as columns", () => {
    const m = matrix(2, 3, [1, -2.5, 3e-9, 4, 5, 6]);
    expect(Array.from(parseNpy(serializeNpy(m)).data)).to.deep.equal(Array.from(m.data));
    const f32 = new Float32Array([0.5, 1.5, -2]);
    const v = parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(f32.buffer)));
    expect([v.rows, v.cols]).to.deep.equal([3, 1]);
    expect(Array.from(v.data)).to.deep.equal([0.5, 1.5, -2]);
  });

  it("rejects what it cannot read with the reason", () => {
    const body = new Uint8Array(16);
    expect(() => parseNpy(new Uint8Array(20), "X")).to.throw(
      InvalidInputError,
      /X is not a supported .npy file: missing/,
    );
    expect(() => parseNpy(npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", body))).to.throw(/Fortran/);
    expect(() => parseNpy(npy("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", body))).to.throw(
      /dtype >f8/,
    );
    expect(() => parseNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", body))).to.throw(/length/);
    expect(() => parseNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 2), }", body))).to.throw(/2-D/);
  });
});
