// @vitest-environment node
// The training pages' pure parts in Node: the data files and their checks, the program's terms, and the two steps the
// CKKS worker runs (`makeTrainingUpload`, `decryptModelWithKeystore`) with the CLI's and the coprocessor's own code on
// the other side: the coprocessor accepts the page's upload, and a keystore sealed by `buyer keygen`'s code opens here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProgramKind } from "@ciphershare/protocol/chain/constants";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, loadEncryptionKey, loadSecretKey, serializePublicBundle } from "@ciphershare/protocol/ckks/keys";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import type { Hex } from "@ciphershare/protocol/hex";
import { matrix, transposeMultiply, type Matrix } from "@ciphershare/protocol/linalg/matrix";
import { encodeTrainingTerms } from "@ciphershare/protocol/records/training-terms";
import { parseTrainingUpload } from "@ciphershare/protocol/records/training-upload";
import { encryptMatrix, decryptMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { sealKeystore, TEST_SCRYPT } from "@ciphershare/coprocessor/keys/keystore";
import { modelLayout } from "@ciphershare/coprocessor/training/keys";
import {
  analyticGaussianSigma,
  TRAINING_DP_CLIP_NORM,
  TRAINING_DP_DELTA,
} from "@ciphershare/coprocessor/training/privacy";
import { matrixEnvelope } from "@ciphershare/coprocessor/training/release";
import { verifyUpload } from "@ciphershare/coprocessor/training/upload";
import { decryptModelWithKeystore, makeTrainingUpload } from "../../src/fhe/training";
import { checkTrainingData } from "../../src/training/trainingData";
import { fetchTrainingTerms } from "../../src/training/trainingProgram";

const shape = { features: 4, outputs: 3 };
const n = 12;
const xValues = Float64Array.from({ length: n * shape.features }, (_, i) => Math.sin(i + 1) * 0.7);
const labels = Float64Array.from({ length: n }, (_, i) => i % shape.outputs);
const file = (name: string, values: Float64Array, dims: number[]) => ({ name, bytes: serializeNpy(values, dims) });
const csv = (name: string, text: string) => ({ name, bytes: new TextEncoder().encode(text) });

function oneHot(values: Float64Array, classes: number): Matrix {
  const y = matrix(values.length, classes);
  values.forEach((label, row) => (y.data[row * classes + label] = 1));
  return y;
}

describe("the provider page's data files", () => {
  it("reads .npy rows and integer labels (one-hot over c), and CSV alike", () => {
    const read = checkTrainingData(file("x.npy", xValues, [n, 4]), file("y.npy", labels, [n]), shape);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.rows).toBe(n);
    expect(Array.from(read.x.data)).toEqual(Array.from(xValues));
    expect(Array.from(read.y.data)).toEqual(Array.from(oneHot(labels, 3).data));
    const fromCsv = checkTrainingData(csv("x.csv", "1,2,3,4\n5,6,7,8\n"), csv("y.csv", "0,0,1\r\n1,0,0\n\n"), shape);
    expect(fromCsv.ok && Array.from(fromCsv.x.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(fromCsv.ok && Array.from(fromCsv.y.data)).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it("refuses a wrong d or c, different row counts, NaN and a label that is no class, naming the file and entry", () => {
    const y = file("y.npy", labels, [n]);
    const message = (result: ReturnType<typeof checkTrainingData>) => (result.ok ? "accepted" : result.message);
    expect(message(checkTrainingData(file("x.npy", xValues, [n * 2, 2]), y, shape))).toBe(
      `x.npy / y.npy: The data rows have the wrong number of features. (X is ${n * 2}×2, the program has d = 4)`,
    );
    expect(
      message(checkTrainingData(file("x.npy", xValues, [n, 4]), file("y.npy", new Float64Array(n * 2), [n, 2]), shape)),
    ).toMatch(/wrong number of outputs\. \(Y is 12×2, the program has c = 3\)/);
    expect(message(checkTrainingData(file("x.npy", xValues.subarray(0, 8), [2, 4]), y, shape))).toMatch(
      /different row counts\. \(X has 2 rows, Y has 12\)/,
    );
    const nan = Float64Array.from(xValues);
    nan[4 * 3 + 2] = Number.NaN;
    expect(message(checkTrainingData(file("x.npy", nan, [n, 4]), y, shape))).toMatch(
      /non-finite value\. \(data rows\[3\]\[2\] = NaN\)/,
    );
    const badLabels = Float64Array.from(labels);
    badLabels[5] = 7;
    expect(message(checkTrainingData(file("x.npy", xValues, [n, 4]), file("y.npy", badLabels, [n]), shape))).toMatch(
      /labels contain a non-finite value\. \(labels\[5\]\[0\] = NaN\)/,
    );
    expect(message(checkTrainingData(csv("x.csv", "1,2,3,4\n1,2,x,4"), y, shape))).toBe(
      'x.csv: The rows file: not a number in the CSV. (line 2, column 3: "x")',
    );
    expect(message(checkTrainingData(csv("x.csv", "1,2,3,4\n1,2,3"), y, shape))).toMatch(/different lengths/);
    expect(message(checkTrainingData({ name: "x.txt", bytes: new Uint8Array(4) }, y, shape))).toMatch(
      /must be a \.npy or \.csv file/,
    );
  });
});

describe("the program's terms, checked against termsHash", () => {
  const terms = encodeTrainingTerms({ ...shape, lambda: 0.01, dpEpsilon: null });
  const serve = (bytes: Uint8Array) => async () => new Response(bytes as BlobPart);

  it("reads a training program's terms and refuses another kind or bytes of another hash", async () => {
    const termsHash = await keccak256(terms);
    const read = await fetchTrainingTerms("http://store", 1n, { kind: ProgramKind.Training, termsHash }, serve(terms));
    expect(read).toMatchObject({ features: 4, outputs: 3, lambda: 0.01, dpEpsilon: null });
    await expect(
      fetchTrainingTerms("http://store", 1n, { kind: ProgramKind.Federated, termsHash }, serve(terms)),
    ).rejects.toThrow("Program 1 is not a training program (kind 0).");
    const other = encodeTrainingTerms({ ...shape, lambda: 1, dpEpsilon: null });
    await expect(
      fetchTrainingTerms("http://store", 1n, { kind: ProgramKind.Training, termsHash }, serve(other)),
    ).rejects.toThrow(/do not hash to the program's termsHash/);
  });
});

describe("the CKKS worker's training steps (in Node)", () => {
  let ctx: CkksContext;
  let keys: ReturnType<typeof generateKeys>;
  let bundleHash: Hex;

  beforeAll(async () => {
    ctx = await CkksContext.create("deep-v2");
    keys = generateKeys(ctx);
    bundleHash = await keccak256(serializePublicBundle(keys.bundle));
  }, 120_000);
  afterAll(() => ctx?.dispose());

  it("makes the upload `provider submit` makes: the coprocessor accepts it and it decrypts to [XᵀX | XᵀY]", async () => {
    const read = checkTrainingData(file("x.npy", xValues, [n, 4]), file("y.npy", labels, [n]), shape);
    if (!read.ok) throw new Error(read.message);
    const key = loadEncryptionKey(ctx, keys.bundle, bundleHash);
    const upload = await makeTrainingUpload(ctx, key.encryptor, {
      x: read.x,
      y: read.y,
      shape,
      epsilon: { terms: null },
    });
    key.dispose();
    expect(upload.privacy).toBeNull();
    expect(upload.hash).toBe(await keccak256(upload.bytes));
    const header = parseTrainingUpload(upload.bytes);
    expect({ ...header, ciphertexts: header.ciphertexts.length }).toEqual({
      parameterSetId: "deep-v2",
      features: 4,
      outputs: 3,
      rows: n,
      ciphertexts: 1,
    });
    expect(upload.ciphertextCount).toBe(1);
    // The coprocessor's own check (what `training publish` runs on each revealed upload) accepts it …
    const loaded = verifyUpload(ctx, upload.bytes, shape, n);
    const secret = loadSecretKey(ctx, keys.secretKey);
    const system = decryptMatrix(ctx, loaded.statistics, secret.decryptor);
    loaded.dispose();
    secret.dispose();
    // … and it holds [XᵀX | XᵀY] of the file's rows and one-hot labels.
    const x = matrix(n, 4, xValues);
    const a = transposeMultiply(x, x);
    const b = transposeMultiply(x, oneHot(labels, 3));
    for (let r = 0; r < 4; r++) {
      for (let k = 0; k < 7; k++) {
        const expected = k < 4 ? a.data[r * 4 + k]! : b.data[r * 3 + k - 4]!;
        expect(Math.abs(system.data[r * 7 + k]! - expected)).toBeLessThan(1e-6);
      }
    }
    // Another row count than the committed one is refused by the coprocessor.
    expect(() => verifyUpload(ctx, upload.bytes, shape, n + 1)).toThrow(/not the one committed on-chain/);
  }, 120_000);

  it("adds the provider's encrypted local ridge model when the program values its providers (λ given)", async () => {
    const read = checkTrainingData(file("x.npy", xValues, [n, 4]), file("y.npy", labels, [n]), shape);
    if (!read.ok) throw new Error(read.message);
    const key = loadEncryptionKey(ctx, keys.bundle, bundleHash);
    const upload = await makeTrainingUpload(ctx, key.encryptor, {
      x: read.x,
      y: read.y,
      shape,
      epsilon: { terms: null },
      lambda: 0.01,
    });
    key.dispose();
    const model = parseTrainingUpload(upload.bytes).model;
    expect(model).toMatchObject({ rows: 4, cols: 3 });
    const loaded = verifyUpload(ctx, upload.bytes, shape, n);
    expect(loaded.model).not.toBeNull();
    loaded.dispose();
  }, 120_000);

  it("noises the statistics with the smaller ε of the terms and the provider's, and reports the accounting", async () => {
    const read = checkTrainingData(file("x.npy", xValues, [n, 4]), file("y.npy", labels, [n]), shape);
    if (!read.ok) throw new Error(read.message);
    const key = loadEncryptionKey(ctx, keys.bundle, bundleHash);
    const upload = await makeTrainingUpload(ctx, key.encryptor, {
      x: read.x,
      y: read.y,
      shape,
      epsilon: { terms: 8, provider: 2 },
    });
    key.dispose();
    const sensitivity = 2 * TRAINING_DP_CLIP_NORM ** 2;
    expect(upload.privacy).toMatchObject({
      epsilon: 2,
      delta: TRAINING_DP_DELTA,
      sensitivity,
      sigma: analyticGaussianSigma(2, TRAINING_DP_DELTA, sensitivity),
      rows: n,
    });
    expect(upload.privacy?.description).toMatch(/^\(ε = 2, δ = 0\.00001\)-DP for each of your 12 rows/);
  }, 120_000);

  it("decrypts W with a keystore sealed by the CLI's code; a wrong passphrase or another buyer key is refused", async () => {
    const w = matrix(
      4,
      3,
      Float64Array.from({ length: 12 }, (_, i) => (i - 6) / 7),
    );
    const encrypted = encryptMatrix(
      ctx,
      modelLayout(shape, ctx.slotCount),
      w,
      loadEncryptionKey(ctx, keys.bundle, bundleHash).encryptor,
    );
    const envelope = await matrixEnvelope(ctx, encrypted, bundleHash);
    encrypted.dispose();
    const keystore = await sealKeystore(
      keys.secretKey,
      "buyer passphrase",
      { parameterSetId: "deep-v2", publicBundleHash: bundleHash },
      TEST_SCRYPT,
    );
    const contextFor = async () => ctx;
    const request = { keystore, passphrase: "buyer passphrase", envelope, shape, buyerKeyHash: bundleHash };
    const decrypted = await decryptModelWithKeystore(contextFor, request);
    expect([decrypted.rows, decrypted.cols]).toEqual([4, 3]);
    decrypted.data.forEach((v, i) => expect(Math.abs(v - w.data[i]!)).toBeLessThan(1e-6));
    await expect(
      decryptModelWithKeystore(contextFor, { ...request, passphrase: "not the passphrase" }),
    ).rejects.toThrow("Wrong passphrase, or the keystore file was altered.");
    const other = `0x${"ab".repeat(32)}` as Hex;
    await expect(decryptModelWithKeystore(contextFor, { ...request, buyerKeyHash: other })).rejects.toThrow(
      `not the program's buyer key ${other}`,
    );
  }, 120_000);
});
