import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, loadEncryptionKey, loadSecretKey } from "@ciphershare/protocol/ckks/keys";
import { parseTrainingUpload, serializeTrainingUpload } from "@ciphershare/protocol/records/training-upload";
import { decryptMatrix } from "@ciphershare/coprocessor/training/encrypted-matrix";
import { TrainingInputError } from "@ciphershare/coprocessor/training/errors";
import { maxRelativeError } from "@ciphershare/coprocessor/training/ridge";
import { augmented, providerStatistics } from "@ciphershare/coprocessor/training/statistics";
import { providerUpload, verifyUpload } from "@ciphershare/coprocessor/training/upload";
import { syntheticRows } from "./fixtures";

describe("training: a provider's upload (CST1) and the coprocessor's checks", function () {
  const shape = { features: 10, outputs: 2 };
  const { x, y } = syntheticRows(25, shape.features, shape.outputs, 4);
  const stats = providerStatistics(x, y, shape, 25);
  let ctx: CkksContext;
  let upload: Uint8Array;
  let secretKey: Uint8Array;

  before(async function () {
    ctx = await CkksContext.create("deep-v2");
    const keys = generateKeys(ctx);
    secretKey = keys.secretKey;
    const key = loadEncryptionKey(ctx, keys.bundle, "0x00");
    try {
      upload = providerUpload(ctx, stats, shape, key.encryptor);
    } finally {
      key.dispose();
    }
  });
  after(() => ctx.dispose());

  function refusal(bytes: Uint8Array, program = shape, rows = 25): TrainingInputError {
    try {
      verifyUpload(ctx, bytes, program, rows).dispose();
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
      const decrypted = decryptMatrix(ctx, loaded, secret.decryptor);
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
});
