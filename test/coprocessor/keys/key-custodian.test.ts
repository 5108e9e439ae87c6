import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { envelopeCommitment, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { loadPublicBundle, loadSecretKey, type LoadedPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { modelUpdateFromArray } from "@ciphershare/protocol/formats/model-update";
import { KeyCustodian, type NewEpochKeys } from "@ciphershare/coprocessor/keys/key-custodian";
import { KeystoreError, openShareKeystore, TEST_SCRYPT } from "@ciphershare/coprocessor/keys/keystore";
import {
  DecryptionRefusedError,
  InMemoryRoundCommitments,
  type RefusalReason,
} from "@ciphershare/coprocessor/keys/policy";
import { fedAvgEncrypted } from "@ciphershare/coprocessor/fedavg/homomorphic";
import { fedAvgPlain } from "@ciphershare/coprocessor/fedavg/weights";
import { combinePartialDecryptions } from "@ciphershare/coprocessor/threshold/combine";
import { ReleaseRangeError, ThresholdError } from "@ciphershare/coprocessor/threshold/errors";
import { releasedNoiseStd, smudgingSigma } from "@ciphershare/coprocessor/threshold/flooding";
import { fedAvgNoiseBound, noiseParameters } from "@ciphershare/coprocessor/threshold/noise-bound";
import { aggregateRelease, type OutputRelease } from "@ciphershare/coprocessor/threshold/release-bounds";
import { maxAbsError, sampleUpdate, sharedContext } from "../../support/ckks";
import { rejectionOf } from "../../support/rejection";

describe("key custodian (the 1-of-1 committee)", function () {
  this.timeout(300_000);
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
  let release: OutputRelease;
  const counts = [50, 30, 20];

  before(async () => {
    ctx = await sharedContext("deep-v2");
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
    release = aggregateRelease(ctx, counts, 4);
  });

  after(() => {
    custodian?.dispose();
    bundle?.dispose();
  });

  it("decrypts a published output flooded in the ring by its computation's bound, not after decoding", async function () {
    const released = await custodian.decryptOutput(round, output, release);
    expect(released.tensors).to.deep.equal([{ name: "update", shape: [60, 100] }]);
    expect(custodian.committee).to.deep.equal({ threshold: 1, members: 1, member: 1 });
    // σ follows the rule from the FedAvg bound of these sample counts.
    const bound = fedAvgNoiseBound(noiseParameters(ctx), [0.5, 0.3, 0.2]);
    expect(released.errorBound.l2).to.be.closeTo(bound.l2, bound.l2 * 1e-12);
    expect(released.smudgingSigma).to.equal(smudgingSigma(bound.l2));
    expect(Math.log2(released.smudgingSigma)).to.be.closeTo(Math.log2(bound.l2) + 15 + 8, 1e-9);
    expect(released.floodingSigma).to.equal(releasedNoiseStd(released.smudgingSigma, 1, 16384, bound.scale));
    const reference = fedAvgPlain(updates, counts);
    let squares = 0;
    for (let i = 0; i < reference.length; i++) squares += (released.values[i] - reference[i]) ** 2;
    const std = Math.sqrt(squares / reference.length);
    this.test!.title += ` [σ = 2^${Math.log2(released.smudgingSigma).toFixed(1)} per coefficient → ${released.floodingSigma.toExponential(2)} per value; error std ${std.toExponential(2)}, max ${maxAbsError(released.values, reference).toExponential(2)}]`;
    expect(std).to.be.within(0.9 * released.floodingSigma, 1.1 * released.floodingSigma);
    expect(maxAbsError(released.values, reference)).to.be.below(6 * released.floodingSigma);
    expect(maxAbsError(released.values, reference)).to.be.below(1e-8);
  });

  it("attack: asking again returns the very same release, so repeated requests cannot average the noise away", async () => {
    const first = await custodian.decryptOutput(round, output, release);
    const second = await custodian.decryptOutput(round, output, release);
    expect(second.values).to.deep.equal(first.values);
    // A different (smaller) claimed bound for the same output is refused rather than answered with less noise.
    const thinner = { ...release, errorBound: { ...release.errorBound, l2: release.errorBound.l2 / 1024 } };
    await rejectionOf(custodian.decryptOutput(round, output, thinner), ThresholdError, /another error bound/);
  });

  it("range-checks before releasing: values beyond the declared bound are refused", async () => {
    const strict = await KeyCustodian.open(ctx, epoch.keystore, passphrase, { commitments });
    try {
      await rejectionOf(
        strict.decryptOutput(round, output, { ...release, maxAbs: 0.05 }),
        ReleaseRangeError,
        /outside/,
      );
    } finally {
      strict.dispose();
    }
    custodian.dispose();
    await rejectionOf(custodian.decryptOutput(round, output, release), ThresholdError, /disposed/);
    custodian = await KeyCustodian.open(ctx, epoch.keystore, passphrase, { commitments });
  });

  it("refuses contributors' inputs, unknown hashes, other rounds and contribution envelopes", async () => {
    await expectRefusal(custodian.decryptOutput(round, inputs[0], release), "input-commitment");
    await expectRefusal(custodian.decryptOutput(round + 1n, output, release), "unknown-commitment");
    const stray = await encryptModelUpdate(ctx, bundle, modelUpdateFromArray([1, 2, 3]));
    await expectRefusal(custodian.decryptOutput(round, stray, release), "unknown-commitment");
    // Even if someone lists an input as an output, it stays refused.
    const confused = new InMemoryRoundCommitments();
    confused.publishInput(round, await envelopeCommitment(inputs[1]));
    confused.publishOutput(round, await envelopeCommitment(inputs[1]));
    confused.publishOutput(round, await envelopeCommitment(stray));
    const careless = await KeyCustodian.open(ctx, epoch.keystore, passphrase, { commitments: confused });
    try {
      await expectRefusal(careless.decryptOutput(round, inputs[1], release), "input-commitment");
      await expectRefusal(careless.decryptOutput(round, stray, release), "not-an-aggregate");
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

  it("a dealt 2-of-3 committee: members open their own keystores, no one decrypts alone, two partials release", async () => {
    const passphrases = ["member one passphrase", "member two passphrase", "member three passphrase"];
    const dealt = await KeyCustodian.dealCommitteeKeys(ctx, passphrases, 2, {}, TEST_SCRYPT);
    expect(dealt.keystores).to.have.length(3);
    expect(new Set(dealt.shareCommitments).size).to.equal(3);
    const committeeBundle = await loadPublicBundle(ctx, dealt.bundleBytes);
    const policy = new InMemoryRoundCommitments();
    const envelopes: Uint8Array[] = [];
    for (const update of updates)
      envelopes.push(await encryptModelUpdate(ctx, committeeBundle, modelUpdateFromArray(update)));
    committeeBundle.dispose();
    const aggregate = await fedAvgEncrypted(
      ctx,
      envelopes.map((envelope, i) => ({ envelope, sampleCount: counts[i] })),
      { publicBundleHash: dealt.publicBundleHash },
    );
    policy.publishOutput(round, await envelopeCommitment(aggregate));
    for (const envelope of envelopes) policy.publishInput(round, await envelopeCommitment(envelope));
    const members = await Promise.all(
      dealt.keystores.map((keystore, i) =>
        KeyCustodian.openMember(ctx, keystore, passphrases[i], { commitments: policy }),
      ),
    );
    try {
      expect(members.map((m) => m.committee.member)).to.deep.equal([1, 2, 3]);
      await rejectionOf(members[0].decryptOutput(round, aggregate, release), ThresholdError, /cannot decrypt alone/);
      await expectRefusal(
        members[1].partialDecryptOutput(round, envelopes[0], release.errorBound, [1, 2]),
        "input-commitment",
      );
      await rejectionOf(
        KeyCustodian.openMember(ctx, dealt.keystores[0], passphrases[1], { commitments: policy }),
        KeystoreError,
      );
      await rejectionOf(
        KeyCustodian.open(ctx, dealt.keystores[0], passphrases[0], { commitments: policy }),
        KeystoreError,
        /key share/,
      );
      const partials = await Promise.all(
        [members[0], members[2]].map((m) => m.partialDecryptOutput(round, aggregate, release.errorBound, [1, 3])),
      );
      const combined = await combinePartialDecryptions(ctx, aggregate, partials, { maxAbs: release.maxAbs });
      expect(maxAbsError(combined.values, fedAvgPlain(updates, counts))).to.be.below(1e-8);
    } finally {
      members.forEach((m) => m.dispose());
    }
  });

  it("no single member's keystore decrypts any ciphertext: not an input, not the aggregate, not even its share used as a key", async () => {
    const passphrases = ["one", "two", "three"].map((m) => `member ${m} passphrase`);
    const dealt = await KeyCustodian.dealCommitteeKeys(ctx, passphrases, 2, {}, TEST_SCRYPT);
    const committeeBundle = await loadPublicBundle(ctx, dealt.bundleBytes);
    const values = updates.map((u) => u.subarray(0, 600));
    const envelopes: Uint8Array[] = [];
    for (const v of values) envelopes.push(await encryptModelUpdate(ctx, committeeBundle, modelUpdateFromArray(v)));
    committeeBundle.dispose();
    const aggregate = await fedAvgEncrypted(
      ctx,
      envelopes.map((envelope, i) => ({ envelope, sampleCount: counts[i] })),
      { publicBundleHash: dealt.publicBundleHash },
    );
    const plaintexts = [...values, fedAvgPlain(values, counts)];
    const policy = new InMemoryRoundCommitments();
    policy.publishOutput(round, await envelopeCommitment(aggregate));
    for (const [m, keystore] of dealt.keystores.entries()) {
      // Through its own API: a member's custodian refuses to decrypt alone.
      const member = await KeyCustodian.openMember(ctx, keystore, passphrases[m], { commitments: policy });
      try {
        await rejectionOf(member.decryptOutput(round, aggregate, release), ThresholdError, /cannot decrypt alone/);
      } finally {
        member.dispose();
      }
      // Around it: the keystore's share, loaded into SEAL as if it were the secret key, decrypts only noise.
      const { share } = await openShareKeystore(keystore, passphrases[m]);
      const asKey = loadSecretKey(ctx, share.subarray(SHARE_HEADER_BYTES));
      try {
        for (const [k, envelope] of [...envelopes, aggregate].entries()) {
          const { chunks } = await parseEnvelope(envelope);
          const ciphertext = ctx.loadCiphertext(chunks[0]);
          const decrypted = ctx.decrypt(ciphertext, asKey.decryptor);
          ciphertext.delete();
          const expected = plaintexts[k];
          const close = expected.filter((v, i) => Math.abs(decrypted[i] - v) < 1).length;
          expect(close, `member ${m + 1}, ciphertext ${k}`).to.be.below(expected.length * 0.01);
        }
      } finally {
        asKey.dispose();
        share.fill(0);
      }
    }
  });
});

/** A serialized key share's header (magic, version, set, t, n, member, bundle hash); SEAL's key layout follows. */
const SHARE_HEADER_BYTES = 44;

async function expectRefusal(promise: Promise<unknown>, reason: RefusalReason): Promise<void> {
  expect((await rejectionOf(promise, DecryptionRefusedError)).reason).to.equal(reason);
}
