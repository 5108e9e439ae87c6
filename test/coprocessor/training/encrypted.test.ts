import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { decryptMatrix, loadFreshEncryptedMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { systemLayout } from "@ciphershare/coprocessor/training/keys";
import { blockDiagonal, maskPlaintext } from "@ciphershare/coprocessor/training/mask";
import {
  maxRelativeError,
  pooledStatistics,
  regularized,
  ridgeFromStatistics,
} from "@ciphershare/coprocessor/training/ridge";
import { trainOnEncryptedStatistics, type TrainingRunView } from "@ciphershare/coprocessor/training/pipeline";
import { augmented, providerStatistics } from "@ciphershare/protocol/training/statistics";
import { multiply, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import { syntheticRows } from "./fixtures";

describe("training: encrypted ridge on providers' statistics (deep-v2)", function () {
  const shape = { features: 12, outputs: 3 };
  const lambda = 0.01;
  const stats = [0, 1, 2].map((k) => {
    const { x, y } = syntheticRows(40 + 10 * k, shape.features, shape.outputs, 10 + k);
    return providerStatistics(x, y, shape, x.rows);
  });
  const pooled = pooledStatistics(stats, shape);
  const reference = ridgeFromStatistics(pooled, lambda);
  let result: Awaited<ReturnType<typeof trainOnEncryptedStatistics>>;
  const seen: { wrongKey?: Matrix; mask?: TrainingRunView["mask"] } = {};

  before(async function () {
    result = await trainOnEncryptedStatistics(stats, shape, lambda, {
      inspect: (view) => {
        seen.mask = view.mask;
        seen.wrongKey = decryptMatrix(view.ctx, view.encryptedModel, view.custodianKey.decryptor);
      },
    });
  });

  it("gives the buyer W within 1e-6 relative of plaintext ridge (before flooding)", function () {
    const error = maxRelativeError(result.w, reference);
    expect(error).to.be.below(1e-6);
  });

  it("releases to the custodian α·M·[A+λnI | B]·blockdiag(N, S), never a one-sided product", function () {
    const mask = seen.mask!;
    const system = augmented(regularized(pooled.a, lambda, pooled.rows), pooled.b);
    const expected = maskPlaintext(system, mask);
    expect(maxRelativeError(result.custodianView, expected)).to.be.below(1e-8);
    const scale = (m: Matrix, f: number): Matrix => ({ ...m, data: m.data.map((v) => v * f) });
    const bd = blockDiagonal(mask.n, mask.s);
    const oneSided = [
      system,
      scale(system, mask.alpha),
      multiply(scale(mask.m, mask.alpha), system),
      multiply(system, bd),
      scale(multiply(system, bd), mask.alpha),
    ];
    for (const candidate of oneSided) expect(maxRelativeError(result.custodianView, candidate)).to.be.above(0.1);
  });

  it("decrypts W only with the buyer's key: the custodian's key gives noise", function () {
    expect(maxRelativeError(seen.wrongKey!, reference)).to.be.above(1e3);
  });
});

describe("training: the coprocessor's checks on uploaded statistics", function () {
  it("refuses garbage bytes and a wrong ciphertext count, naming what was wrong", async function () {
    const ctx = await CkksContext.create("deep-v2");
    try {
      const layout = systemLayout({ features: 128, outputs: 10 }, ctx.slotCount);
      expect(() => loadFreshEncryptedMatrix(ctx, layout, [new Uint8Array(10)])).to.throw(
        /Wrong number of ciphertexts for the matrix layout[\s\S]*1, expected 4 for 128×138/,
      );
      expect(() =>
        loadFreshEncryptedMatrix(
          ctx,
          layout,
          Array.from({ length: 4 }, () => new Uint8Array(64)),
        ),
      ).to.throw(/not a valid deep-v2 ciphertext/);
    } finally {
      ctx.dispose();
    }
  });
});
