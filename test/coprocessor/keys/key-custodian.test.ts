import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import { loadPublicBundle, type LoadedPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { DEFAULT_FLOODING_SIGMA, gaussianNoise } from "@ciphershare/coprocessor/keys/noise";
import {
  DecryptionRefusedError,
  InMemoryRoundCommitments,
  type RefusalReason,
} from "@ciphershare/coprocessor/keys/policy";
import { KeyCustodian, type NewEpochKeys } from "@ciphershare/coprocessor/keys/key-custodian";
import { KeystoreError, TEST_SCRYPT } from "@ciphershare/coprocessor/keys/keystore";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { fedAvgEncrypted } from "@ciphershare/coprocessor/fedavg/homomorphic";
import { fedAvgPlain } from "@ciphershare/coprocessor/fedavg/weights";
import { modelUpdateFromArray } from "@ciphershare/protocol/formats/model-update";
import { fastContext, maxAbsError, sampleUpdate, seededRandom, sharedContext } from "../../support/ckks";
import { rejectionOf } from "../../support/rejection";

describe("key custodian", () => {
  const passphrase = "custodian passphrase";
  const round = 7n;
  let ctx: CkksContext;
  let epoch: NewEpochKeys;
  let bundle: LoadedPublicBundle;
  let commitments: InMemoryRoundCommitments;
  let custodian: KeyCustodian;
  let inputs: Uint8Array[];
  let output: Uint8Array;
  let updates: Float64Array[];
  const counts = [50, 30, 20];

  before(async () => {
    ctx = await fastContext();
    epoch = await KeyCustodian.generateEpochKeys(ctx, passphrase, {}, TEST_SCRYPT);
    // The coprocessor and contributors only ever see the public bundle bytes.
    bundle = await loadPublicBundle(ctx, epoch.bundleBytes);
    expect(bundle.hash).to.equal(epoch.publicBundleHash);
    commitments = new InMemoryRoundCommitments();
    updates = counts.map((_, i) => sampleUpdate(6000, 500 + i));
    inputs = [];
    for (const update of updates) {
      const envelope = await encryptModelUpdate(ctx, bundle, modelUpdateFromArray(update, [60, 100]));
      commitments.publishInput(round, await envelopeCommitment(envelope));
      inputs.push(envelope);
    }
    output = await fedAvgEncrypted(
      ctx,
      inputs.map((envelope, i) => ({ envelope, sampleCount: counts[i] })),
      { publicBundleHash: bundle.hash },
    );
    commitments.publishOutput(round, await envelopeCommitment(output));
    custodian = await KeyCustodian.open(ctx, epoch.keystore, passphrase, { commitments });
  });

  after(() => {
    custodian?.dispose();
    bundle?.dispose();
  });

  it("decrypts a published round output, flooded with noise of the documented σ", async function () {
    const released = await custodian.decryptOutput(round, output);
    expect(released.tensors).to.deep.equal([{ name: "update", shape: [60, 100] }]);
    expect(released.floodingSigma).to.equal(DEFAULT_FLOODING_SIGMA["fast-v1"]);
    const reference = fedAvgPlain(updates, counts);
    const error = maxAbsError(released.values, reference);
    let squares = 0;
    for (let i = 0; i < reference.length; i++) squares += (released.values[i] - reference[i]) ** 2;
    const std = Math.sqrt(squares / reference.length);
    this.test!.title += ` [σ=${released.floodingSigma.toExponential(2)}, error std ${std.toExponential(2)}, max ${error.toExponential(2)}]`;
    // The released error is the flooding noise (the CKKS error, ~1e-9, is 2^10 times smaller).
    expect(std).to.be.within(0.9 * released.floodingSigma, 1.1 * released.floodingSigma);
    expect(error).to.be.below(6 * released.floodingSigma);
  });

  it("refuses contributors' inputs, unknown hashes, other rounds and contribution envelopes", async () => {
    await expectRefusal(custodian.decryptOutput(round, inputs[0]), "input-commitment");
    await expectRefusal(custodian.decryptOutput(round + 1n, output), "unknown-commitment");
    const stray = await encryptModelUpdate(ctx, bundle, modelUpdateFromArray([1, 2, 3]));
    await expectRefusal(custodian.decryptOutput(round, stray), "unknown-commitment");
    // Even if someone lists an input as an output, it stays refused.
    const confused = new InMemoryRoundCommitments();
    confused.publishInput(round, await envelopeCommitment(inputs[1]));
    confused.publishOutput(round, await envelopeCommitment(inputs[1]));
    confused.publishOutput(round, await envelopeCommitment(stray));
    const careless = await KeyCustodian.open(ctx, epoch.keystore, passphrase, { commitments: confused });
    try {
      await expectRefusal(careless.decryptOutput(round, inputs[1]), "input-commitment");
      await expectRefusal(careless.decryptOutput(round, stray), "not-an-aggregate");
    } finally {
      careless.dispose();
    }
  });

  it("refuses to open with a wrong passphrase or for another parameter set", async () => {
    await rejectionOf(KeyCustodian.open(ctx, epoch.keystore, "not the passphrase", { commitments }), KeystoreError);
    const deep = await sharedContext("deep-v1");
    await rejectionOf(
      KeyCustodian.open(deep, epoch.keystore, passphrase, { commitments }),
      KeystoreError,
      /another parameter set/,
    );
  });
});

describe("flooding noise", () => {
  it("is Gaussian with the requested σ (seeded check of mean, std and tails)", () => {
    const random = seededRandom(42);
    const words = (count: number) => Uint32Array.from({ length: count }, () => Math.floor(random() * 2 ** 32));
    const sigma = 3e-6;
    const samples = gaussianNoise(200_001, sigma, words);
    let sum = 0;
    let squares = 0;
    let beyond2 = 0;
    for (const x of samples) {
      sum += x;
      squares += x * x;
      if (Math.abs(x) > 2 * sigma) beyond2++;
    }
    const mean = sum / samples.length;
    expect(Math.abs(mean)).to.be.below(0.01 * sigma);
    expect(Math.sqrt(squares / samples.length)).to.be.closeTo(sigma, 0.01 * sigma);
    expect(beyond2 / samples.length).to.be.closeTo(0.0455, 0.003);
  });

  it("uses the platform CSPRNG by default and validates σ", () => {
    const a = gaussianNoise(4, 1);
    const b = gaussianNoise(4, 1);
    expect(Array.from(a)).to.not.deep.equal(Array.from(b));
    expect(Array.from(gaussianNoise(3, 0))).to.deep.equal([0, 0, 0]);
    expect(() => gaussianNoise(3, -1)).to.throw(InvalidInputError);
    expect(() => gaussianNoise(3, NaN)).to.throw(InvalidInputError);
  });
});

async function expectRefusal(promise: Promise<unknown>, reason: RefusalReason): Promise<void> {
  expect((await rejectionOf(promise, DecryptionRefusedError)).reason).to.equal(reason);
}
