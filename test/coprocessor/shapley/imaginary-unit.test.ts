import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, loadPublicBundle, loadSecretKey } from "@ciphershare/protocol/ckks/keys";
import type { LoadedPublicBundle, LoadedSecretKey } from "@ciphershare/protocol/ckks/keys";
import { deleteAll, type Ciphertext, type Plaintext } from "@ciphershare/protocol/ckks/seal";
import { imaginaryUnit } from "@ciphershare/coprocessor/shapley/encrypted/imaginary-unit";
import { seededRandom } from "../../support/ckks";

describe("shapley: the scaled imaginary unit J = X^(N/4) + X^(3N/4) = ±i√2 (deep-v2)", function () {
  this.timeout(300_000);
  let ctx: CkksContext;
  let bundle: LoadedPublicBundle;
  let secret: LoadedSecretKey;
  let a: Float64Array;
  let b: Float64Array;
  let ctA: Ciphertext;
  let ctB: Ciphertext;
  const owned: (Ciphertext | Plaintext)[] = [];
  const track = <T extends Ciphertext | Plaintext>(handle: T): T => (owned.push(handle), handle);

  before(async () => {
    ctx = await CkksContext.create("deep-v2");
    const keys = generateKeys(ctx, { galoisSteps: [0, 1, 2] });
    bundle = await loadPublicBundle(ctx, keys.bundle);
    secret = loadSecretKey(ctx, keys.secretKey);
    const random = seededRandom(5);
    a = Float64Array.from({ length: ctx.slotCount }, () => 6 * random() - 3);
    b = Float64Array.from({ length: ctx.slotCount }, () => 6 * random() - 3);
    ctA = track(ctx.encrypt(a, bundle.encryptor));
    ctB = track(ctx.encrypt(b, bundle.encryptor));
  });

  after(() => {
    deleteAll(...owned);
    secret.dispose();
    bundle.dispose();
    ctx.dispose();
  });

  const decrypt = (ct: Ciphertext) => ctx.decrypt(ct, secret.decryptor);
  const maxDiff = (x: ArrayLike<number>, y: (i: number) => number) =>
    Math.max(...Array.from(x, (v, i) => Math.abs(v - y(i))));

  it("keeps the scale and level, and Re(J·ct) = 0 while J·J·ct = −2·ct", () => {
    const unit = track(imaginaryUnit(ctx, ctA));
    expect(unit.scale()).to.equal(1);
    const once = track(new ctx.seal.Ciphertext());
    ctx.evaluator.multiplyPlain(ctA, unit, once);
    expect(once.scale()).to.equal(ctA.scale());
    expect(once.coeffModulusSize()).to.equal(ctA.coeffModulusSize());
    // The decoder returns real parts: J·a is purely imaginary.
    expect(maxDiff(decrypt(once), () => 0)).to.be.below(1e-9);
    const twice = track(new ctx.seal.Ciphertext());
    ctx.evaluator.multiplyPlain(once, unit, twice);
    expect(maxDiff(decrypt(twice), (i) => -2 * a[i]) / 6).to.be.below(1e-12);
  });

  it("packs two real vectors: Re(a + J·b) = a, Re(J·(a + J·b)) = −2b, conjugation keeps 2a, J commutes with rotations", () => {
    const unit = track(imaginaryUnit(ctx, ctA));
    const packed = track(new ctx.seal.Ciphertext());
    ctx.evaluator.multiplyPlain(ctB, unit, packed);
    ctx.evaluator.addInplace(packed, ctA);
    expect(maxDiff(decrypt(packed), (i) => a[i]) / 3).to.be.below(1e-12);
    const turned = track(new ctx.seal.Ciphertext());
    ctx.evaluator.multiplyPlain(packed, unit, turned);
    expect(maxDiff(decrypt(turned), (i) => -2 * b[i]) / 6).to.be.below(1e-12);
    // Odd and even rotations of the packed ciphertext keep the packing (X^(N/2) alone would alternate signs here).
    for (const step of [1, 2]) {
      const rotated = track(new ctx.seal.Ciphertext());
      ctx.evaluator.rotateVector(packed, step, bundle.galoisKeys!, rotated);
      ctx.evaluator.multiplyPlain(rotated, unit, rotated);
      const slots = ctx.slotCount;
      expect(maxDiff(decrypt(rotated), (i) => -2 * b[(i + step) % slots]) / 6).to.be.below(1e-11);
    }
    const conjugate = track(new ctx.seal.Ciphertext());
    ctx.evaluator.complexConjugate(packed, bundle.galoisKeys!, conjugate);
    ctx.evaluator.addInplace(conjugate, packed);
    expect(maxDiff(decrypt(conjugate), (i) => 2 * a[i]) / 6).to.be.below(1e-12);
  });

  it("applies to an unrelinearized product and at lower levels (built per level)", () => {
    const product = track(new ctx.seal.Ciphertext());
    ctx.evaluator.multiply(ctA, ctB, product);
    expect(product.size()).to.equal(3);
    const unit = track(imaginaryUnit(ctx, ctA));
    const turned = track(new ctx.seal.Ciphertext());
    ctx.evaluator.multiplyPlain(product, unit, turned);
    ctx.evaluator.multiplyPlain(turned, unit, turned);
    ctx.evaluator.relinearizeInplace(turned, bundle.relinKeys);
    ctx.evaluator.rescaleToNextInplace(turned);
    expect(maxDiff(decrypt(turned), (i) => -2 * a[i] * b[i]) / 18).to.be.below(1e-10);
    const lower = track(imaginaryUnit(ctx, turned));
    const back = track(new ctx.seal.Ciphertext());
    ctx.evaluator.multiplyPlain(turned, lower, back);
    ctx.evaluator.multiplyPlain(back, lower, back);
    expect(maxDiff(decrypt(back), (i) => 4 * a[i] * b[i]) / 36).to.be.below(1e-10);
  });
});
