import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, loadPublicBundle, loadSecretKey } from "@ciphershare/protocol/ckks/keys";
import { multiply, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import { SeededRandom } from "@ciphershare/coprocessor/random/seeded-random";
import { decryptMatrix, encryptMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { rowPackedLayout } from "@ciphershare/protocol/training/layout";
import {
  leftMultiply,
  leftProductSteps,
  rightMultiply,
  rightProductSteps,
} from "@ciphershare/coprocessor/training/products";
import { maxRelativeError } from "@ciphershare/coprocessor/training/ridge";

function gaussian(rows: number, cols: number, seed: number): Matrix {
  const random = new SeededRandom(seed);
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => random.nextNormal()) };
}

describe("training: plaintext × ciphertext products across several ciphertexts (deep-v2)", function () {
  it("computes L·X·B for non-square L and B when X spans two ciphertexts", async function () {
    const ctx = await CkksContext.create("deep-v2");
    // X is 100×5 in blocks of 128 slots: 64 rows per ciphertext, so two ciphertexts (the second half full).
    const layout = rowPackedLayout(100, 5, ctx.slotCount, 128);
    expect(layout.ciphertextCount).to.equal(2);
    const l = gaussian(70, 100, 1);
    const x = gaussian(100, 5, 2);
    const b = gaussian(5, 4, 3);
    const keys = generateKeys(ctx, {
      galoisSteps: [...new Set([...leftProductSteps(layout, 70), ...rightProductSteps(5, 4)])],
    });
    const bundle = await loadPublicBundle(ctx, keys.bundle);
    const secret = loadSecretKey(ctx, keys.secretKey);
    const encrypted = encryptMatrix(ctx, layout, x, bundle.encryptor);
    try {
      const left = leftMultiply(ctx, bundle.galoisKeys!, l, encrypted);
      const both = rightMultiply(ctx, bundle.galoisKeys!, left, b);
      try {
        expect(left.layout.rows).to.equal(70);
        expect(both.layout.cols).to.equal(4);
        expect(both.ciphertexts[0].coeffModulusSize()).to.equal(ctx.freshCoeffModulusSize - 2);
        expect(maxRelativeError(decryptMatrix(ctx, left, secret.decryptor), multiply(l, x))).to.be.below(1e-9);
        const expected = multiply(multiply(l, x), b);
        expect(maxRelativeError(decryptMatrix(ctx, both, secret.decryptor), expected)).to.be.below(1e-9);
      } finally {
        left.dispose();
        both.dispose();
      }
      expect(() => leftMultiply(ctx, bundle.galoisKeys!, gaussian(3, 99, 4), encrypted)).to.throw(
        /Matrix shapes do not chain[\s\S]*3×99 · 100×5/,
      );
    } finally {
      encrypted.dispose();
      secret.dispose();
      bundle.dispose();
      ctx.dispose();
    }
  });
});
