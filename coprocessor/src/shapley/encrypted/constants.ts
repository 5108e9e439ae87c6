import type { CkksContext } from "../../ckks/context";
import { CkksError } from "../../ckks/errors";
import type { Ciphertext, Plaintext } from "../../ckks/seal";

/**
 * Constant plaintexts (the same value in every slot) at one scale and level, without an FFT per value.
 *
 * A CKKS constant encodes to the constant polynomial round(value·scale), whose NTT form holds that
 * integer mod q_i at every position. `CKKSEncoder.encode` takes ~4 ms at N = 16384 and node-seal has no
 * scalar fast path, while the Gram terms need thousands of distinct scalars. So one constant is encoded
 * normally as a template, the template's serialization is checked to have exactly that structure, and
 * each new constant rewrites the residues and loads the bytes (SEAL re-validates them on load).
 */
export class ConstantPlaintexts {
  private readonly template: Uint8Array;
  private readonly dataOffset: number;
  private readonly moduli: bigint[];
  private readonly degree: number;
  private readonly residues: BigUint64Array;
  /** Reused for every constant: SEAL copies the bytes on load. */
  private readonly buffer: Uint8Array;

  constructor(
    private readonly ctx: CkksContext,
    private readonly scale: number,
    levelOf: Ciphertext,
  ) {
    const probe = ctx.encodeConstant(1, { scale, levelOf });
    try {
      this.template = new Uint8Array(probe.saveToArray(ctx.seal.ComprModeType.none) as ArrayLike<number>);
    } finally {
      probe.delete();
    }
    const data = ctx.context.getContextData(levelOf.parmsId());
    const parms = data.parms();
    const vector = parms.coeffModulus();
    this.moduli = ctx.seal.jsArrayFromVecModulus(vector) as bigint[];
    vector.delete();
    parms.delete();
    data.delete();
    this.degree = ctx.parameterSet.polyModulusDegree;
    this.residues = new BigUint64Array(this.degree * this.moduli.length);
    this.dataOffset = this.template.length - this.residues.byteLength;
    this.buffer = this.template.slice();
    const expected = this.residuesOf(1);
    const actual = new BigUint64Array(this.template.slice(this.dataOffset).buffer);
    if (this.dataOffset <= 0 || actual.some((value, index) => value !== expected[Math.floor(index / this.degree)])) {
      throw new CkksError("Unexpected SEAL plaintext layout for a constant; cannot build constants quickly.");
    }
  }

  /** A new plaintext holding `value` in every slot; the caller deletes it. */
  plaintext(value: number): Plaintext {
    this.residuesOf(value).forEach((residue, i) => this.residues.fill(residue, i * this.degree, (i + 1) * this.degree));
    this.buffer.set(new Uint8Array(this.residues.buffer), this.dataOffset);
    const plaintext = new this.ctx.seal.Plaintext();
    try {
      plaintext.loadFromArray(this.ctx.context, this.buffer);
      return plaintext;
    } catch (error) {
      plaintext.delete();
      throw error;
    }
  }

  private residuesOf(value: number): bigint[] {
    const scaled = BigInt(Math.round(value * this.scale));
    return this.moduli.map((q) => ((scaled % q) + q) % q);
  }
}
