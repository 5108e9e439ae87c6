import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, loadEncryptionKey, loadSecretKey } from "@ciphershare/protocol/ckks/keys";
import { parseTrainingUpload, serializeTrainingUpload } from "@ciphershare/protocol/records/training-upload";
import { decryptMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { TrainingInputError } from "@ciphershare/protocol/training/errors";
import { maxRelativeError, ridgeFromStatistics } from "@ciphershare/coprocessor/training/ridge";
import { augmented, providerStatistics } from "@ciphershare/protocol/training/statistics";
import { providerUpload, verifyUpload } from "@ciphershare/coprocessor/training/upload";
import { syntheticRows } from "./fixtures";

describe("training: a provider's upload (CST1) and the coprocessor's checks", function () {
  const shape = { features: 10, outputs: 2 };
  const { x, y } = syntheticRows(25, shape.features, shape.outputs, 4);
  const stats = providerStatistics(x, y, shape, 25);
  let ctx: CkksContext;
  let upload: Uint8Array;
  let withModel: Uint8Array;
  let wrongModel: Uint8Array;
  let secretKey: Uint8Array;

  before(async function () {
    ctx = await CkksContext.create("deep-v2");
    const keys = generateKeys(ctx);
    secretKey = keys.secretKey;
    const key = loadEncryptionKey(ctx, keys.bundle, "0x00");
    try {
      upload = providerUpload(ctx, stats, shape, key.encryptor);
      withModel = providerUpload(ctx, stats, shape, key.encryptor, { lambda: 0.01 });
      const wide = { rows: shape.features, cols: shape.outputs + 1, data: new Float64Array(shape.features * 3) };
      wrongModel = providerUpload(ctx, stats, shape, key.encryptor, { model: wide });
    } finally {
      key.dispose();
    }
  });
  after(() => ctx.dispose());

  function refusal(bytes: Uint8Array, program = shape, rows = 25, requireModel = false): TrainingInputError {
    try {
      verifyUpload(ctx, bytes, program, rows, { requireModel }).dispose();
    } catch (error) {
      expect(error).to.be.instanceOf(TrainingInputError);
      return error as TrainingInputError;
    }
    throw new Error("expected the upload to be refused");
  }

  it("round-trips: the coprocessor loads what the provider encrypted", function () {
    const parsed = parseTrainingUpload(upload);
    expect(parsed).to.include({ parameterSetId: "deep-v2", features: 10, outputs: 2, rows: 25 });
    const loaded = verifyUpload(ctx, upload, shape, 25);
    const secret = loadSecretKey(ctx, secretKey);
    try {
      const decrypted = decryptMatrix(ctx, loaded.statistics, secret.decryptor);
      expect(maxRelativeError(decrypted, augmented(stats.a, stats.b))).to.be.below(1e-9);
    } finally {
      secret.dispose();
      loaded.dispose();
    }
  });

  it("refuses another shape, another row count, truncated bytes and a forged ciphertext, each with its reason", function () {
    const wrongShape = refusal(upload, { features: 11, outputs: 2 });
    expect(wrongShape.reason).to.equal("shape");
    expect(wrongShape.message).to.contain("10 × 2, the program has 11 × 2");

    const wrongRows = refusal(upload, shape, 26);
    expect(wrongRows.reason).to.equal("row-count");
    expect(wrongRows.message).to.contain("upload 25, committed 26");

    const truncated = refusal(upload.subarray(0, upload.length - 1));
    expect(truncated.reason).to.equal("shape");
    expect(truncated.message).to.match(/not a training upload[\s\S]*ciphertext 0 length out of bounds/);

    const parsed = parseTrainingUpload(upload);
    const forged = serializeTrainingUpload({ ...parsed, ciphertexts: [new Uint8Array(parsed.ciphertexts[0].length)] });
    const bad = refusal(forged);
    expect(bad.reason).to.equal("shape");
    expect(bad.message).to.contain("not fresh ciphertexts of the program");
  });

  it("carries the provider's local ridge model in its model section, committed with the statistics", function () {
    const parsed = parseTrainingUpload(withModel);
    expect(parsed.model).to.include({ version: 1, rows: 10, cols: 2 });
    expect(parseTrainingUpload(upload).model).to.equal(undefined);
    const loaded = verifyUpload(ctx, withModel, shape, 25, { requireModel: true });
    const secret = loadSecretKey(ctx, secretKey);
    try {
      expect(loaded.model).to.not.equal(null);
      const slots = ctx.decrypt(ctx.loadCiphertext(loaded.model!), secret.decryptor);
      const w = { rows: 10, cols: 2, data: Float64Array.from(slots.slice(0, 20)) };
      expect(maxRelativeError(w, ridgeFromStatistics(stats, 0.01))).to.be.below(1e-6);
      const statistics = decryptMatrix(ctx, loaded.statistics, secret.decryptor);
      expect(maxRelativeError(statistics, augmented(stats.a, stats.b))).to.be.below(1e-9);
    } finally {
      secret.dispose();
      loaded.dispose();
    }
    // Re-serializing the parsed record gives the same bytes: the commitment covers both sections.
    expect(serializeTrainingUpload(parsed)).to.deep.equal(withModel);
  });

  it("refuses a missing model where the program values, a model of the wrong shape and a forged model", function () {
    const missing = refusal(upload, shape, 25, true);
    expect(missing.reason).to.equal("model");
    expect(missing.message).to.contain("no local model");

    const wide = refusal(wrongModel);
    expect(wide.reason).to.equal("shape");
    expect(wide.message).to.contain("local model is not d × c");
    expect(wide.message).to.contain("10 × 3, the program has 10 × 2");

    const parsed = parseTrainingUpload(withModel);
    const forged = serializeTrainingUpload({
      ...parsed,
      model: { ...parsed.model!, ciphertexts: [new Uint8Array(parsed.model!.ciphertexts[0].length)] },
    });
    const bad = refusal(forged);
    expect(bad.reason).to.equal("shape");
    expect(bad.message).to.contain("local model is not a fresh ciphertext");

    const trailing = refusal(Uint8Array.from([...withModel, 0]));
    expect(trailing.message).to.match(/trailing bytes/);
  });
});
