import { expect } from "chai";
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { EnvelopeKind, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import {
  loadPublicBundle,
  loadSecretKey,
  powerOfTwoSteps,
  type LoadedPublicBundle,
} from "@ciphershare/protocol/ckks/keys";
import { decryptEnvelopeValues, encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { modelUpdateFromArray } from "@ciphershare/protocol/formats/model-update";
import type { Hex } from "@ciphershare/protocol/hex";
import { initKeccak, keccak256Sync } from "@ciphershare/protocol/hashing/keccak";
import { KeyCustodian, type NewEpochKeys } from "@ciphershare/coprocessor/keys/key-custodian";
import { openKeystore, TEST_SCRYPT } from "@ciphershare/coprocessor/keys/keystore";
import { DecryptionRefusedError, InMemoryRoundCommitments } from "@ciphershare/coprocessor/keys/policy";
import { plaintextUsageTotals, screenAttributions } from "@ciphershare/coprocessor/usage/attribution";
import { aggregateUsage, USAGE_TOTALS_TENSOR } from "@ciphershare/coprocessor/usage/aggregate";
import { encryptUsageBatch } from "@ciphershare/coprocessor/usage/batch";
import { assertReleasableTotals, usageRelease, UsageReleaseRefusedError } from "@ciphershare/coprocessor/usage/release";
import { usageRoyaltyShares } from "@ciphershare/coprocessor/usage/royalties";
import { verifyUsageBatches, type UsageBatchCommitment } from "@ciphershare/coprocessor/usage/verify";
import { ciphertextsFor } from "@ciphershare/coprocessor/usage/layout";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { seededRandom, sharedContext } from "../../support/ckks";
import { rejectionOf } from "../../support/rejection";

/** Attribution vectors like a softmax over style similarities: sum ≤ 1, artist `unused` never attributed. */
function generations(count: number, contributors: number, seed: number, unused: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const raw = Array.from({ length: contributors }, (_, i) => (i === unused ? 0 : random() ** 3));
    const sum = raw.reduce((a, b) => a + b, 0) || 1;
    const mass = 0.5 + 0.5 * random();
    return raw.map((v) => (v / sum) * mass);
  });
}

function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) {
    max = Math.max(max, Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), 1));
  }
  return max;
}

describe("usage: encrypted reports summed into one committed output (deep-v2)", function () {
  this.timeout(600_000);
  const passphrase = "usage custodian";
  const period = 3n;
  const rules = { contributors: 6, generationCap: 1 };
  let ctx: CkksContext;
  let epoch: NewEpochKeys;
  let bundle: LoadedPublicBundle;
  let expectations: { parameterSetId: string; publicBundleHash: Hex; contributors: number; slotCount: number };
  let vectors: number[][];
  let batches: Uint8Array[];
  let counts: number[];

  before(async () => {
    ctx = await sharedContext("deep-v2");
    await initKeccak();
    epoch = await KeyCustodian.generateEpochKeys(
      ctx,
      passphrase,
      { galoisSteps: powerOfTwoSteps(ctx.slotCount, false) },
      TEST_SCRYPT,
    );
    bundle = await loadPublicBundle(ctx, epoch.bundleBytes);
    expectations = {
      parameterSetId: ctx.parameterSet.id,
      publicBundleHash: bundle.hash,
      contributors: rules.contributors,
      slotCount: ctx.slotCount,
    };
    // 2,500 generations in three batches (the last one partial), artist 5 never used, plus bad vectors.
    const raw: number[][] = generations(2500, 6, 11, 5);
    raw.splice(100, 0, [0.1, -0.2, 0, 0, 0, 0], [NaN, 0, 0, 0, 0, 0], [0.5, 0.5], [0.9, 0.9, 0, 0, 0, 0]);
    const screened = screenAttributions(raw, rules);
    expect(screened.excluded.map((e) => e.reason)).to.deep.equal([
      "negative",
      "not-finite",
      "wrong-length",
      "over-cap",
    ]);
    vectors = screened.included.map((v) => Array.from(v));
    expect(vectors).to.have.length(2500);
    const slices = [vectors.slice(0, 1024), vectors.slice(1024, 2048), vectors.slice(2048)];
    counts = slices.map((s) => s.length);
    batches = [];
    for (const slice of slices) batches.push(await encryptUsageBatch(ctx, bundle, rules, slice));
  });

  after(() => bundle?.dispose());

  it("packs 1,024 generations of 6 contributors per ciphertext into UsageBatch envelopes", async () => {
    const parsed = await parseEnvelope(batches[0]);
    expect(parsed.header.kind).to.equal(EnvelopeKind.UsageBatch);
    expect(parsed.header.tensors).to.deep.equal([{ name: "usage", shape: [1024, 8] }]);
    expect(parsed.header.chunkCount).to.equal(1);
    expect((await parseEnvelope(batches[2])).header.chunkCount).to.equal(
      ciphertextsFor({ contributors: 6, stride: 8, generationsPerCiphertext: 1024, slotCount: 8192 }, 452),
    );
  });

  it("refuses to encrypt an unscreened bad vector, naming the generation and the reason", async () => {
    const error = await rejectionOf(
      encryptUsageBatch(ctx, bundle, rules, [
        [0.1, 0, 0, 0, 0, 0],
        [0, 0, -1, 0, 0, 0],
      ]),
      InvalidInputError,
      /Generation 1 .*negative/,
    );
    expect(error.details).to.equal("contributor 2: -1");
  });

  it("sums every batch to per-contributor totals within 1e-6 relative of the plaintext sum (before flooding)", async () => {
    const verified = await verifyUsageBatches(
      batches.map((bytes, i) => ({ commitment: { hash: hashOf(bytes), generations: counts[i] }, bytes })),
      expectations,
    );
    expect(verified.excluded).to.deep.equal([]);
    const {
      envelope,
      generations: total,
      valueExponent,
    } = await aggregateUsage(ctx, bundle.galoisKeys!, verified.included, {
      publicBundleHash: bundle.hash,
      rules,
    });
    expect(total).to.equal(2500);
    const parsed = await parseEnvelope(envelope);
    expect(parsed.header.kind).to.equal(EnvelopeKind.Aggregate);
    expect(parsed.header.tensors).to.deep.equal([{ name: USAGE_TOTALS_TENSOR, shape: [1, 6] }]);
    expect(parsed.header.valueExponent).to.equal(valueExponent);
    // The test holds the key itself here, only to measure the computation's error before flooding.
    const { secretKey } = await openKeystore(epoch.keystore, passphrase);
    const secret = loadSecretKey(ctx, secretKey);
    try {
      const totals = decryptEnvelopeValues(ctx, parsed, secret.decryptor).map((v) => v * 2 ** valueExponent);
      const expected = plaintextUsageTotals(vectors, 6);
      expect(expected[5]).to.equal(0);
      for (let i = 0; i < 5; i++) expect(Math.abs(totals[i] - expected[i]) / expected[i]).to.be.below(1e-6);
      expect(Math.abs(totals[5])).to.be.below(1e-6);
    } finally {
      secret.dispose();
      secretKey.fill(0);
    }
    // Deterministic bytes: the batches in another order give the same output (modular additions).
    const again = await aggregateUsage(ctx, bundle.galoisKeys!, [...verified.included].reverse(), {
      publicBundleHash: bundle.hash,
      rules,
    });
    expect(hashOf(again.envelope)).to.equal(hashOf(envelope));
  });

  it("excludes missing, altered, malformed, miscounted and repeated batches with their reason; the period completes", async () => {
    const altered = Uint8Array.from(batches[1]);
    altered[altered.length - 1] ^= 1;
    const contribution = await encryptModelUpdate(ctx, bundle, modelUpdateFromArray(new Float64Array(16), [2, 8]));
    const otherLayout = await encryptUsageBatch(ctx, bundle, { contributors: 3, generationCap: 1 }, [[0.1, 0.2, 0.3]]);
    const candidates: { commitment: UsageBatchCommitment; bytes: Uint8Array | undefined }[] = [
      { commitment: { hash: hashOf(batches[0]), generations: 1024 }, bytes: batches[0] },
      { commitment: { hash: hashOf(batches[1]), generations: 1024 }, bytes: undefined },
      { commitment: { hash: hashOf(batches[1]), generations: 1024 }, bytes: altered },
      { commitment: { hash: hashOf(contribution), generations: 2 }, bytes: contribution },
      { commitment: { hash: hashOf(otherLayout), generations: 1 }, bytes: otherLayout },
      { commitment: { hash: hashOf(batches[2]), generations: 999 }, bytes: batches[2] },
      { commitment: { hash: hashOf(batches[0]), generations: 1024 }, bytes: batches[0] },
    ];
    const verified = await verifyUsageBatches(candidates, expectations);
    expect(verified.excluded.map((e) => [e.index, e.reason])).to.deep.equal([
      [1, "blob-missing"],
      [2, "duplicate"],
      [3, "malformed"],
      [4, "malformed"],
      [5, "count-mismatch"],
      [6, "duplicate"],
    ]);
    expect(verified.excluded[2].details).to.match(/^wrong-kind/);
    expect(verified.excluded[3].details).to.match(/^bad-manifest/);
    expect(verified.included.map((b) => b.index)).to.deep.equal([0]);
    const { envelope, generations: total } = await aggregateUsage(ctx, bundle.galoisKeys!, verified.included, {
      publicBundleHash: bundle.hash,
      rules,
    });
    expect(total).to.equal(1024);
    expect((await parseEnvelope(envelope)).header.kind).to.equal(EnvelopeKind.Aggregate);
  });

  it("an altered batch under its own (fresh) commitment is caught as malformed by its checksum", async () => {
    const altered = Uint8Array.from(batches[1]);
    altered[altered.length - 1] ^= 1;
    const verified = await verifyUsageBatches(
      [{ commitment: { hash: hashOf(altered), generations: 1024 }, bytes: altered }],
      expectations,
    );
    expect(verified.excluded.map((e) => e.reason)).to.deep.equal(["malformed"]);
    expect(verified.excluded[0].details).to.match(/^checksum-mismatch/);
  });

  describe("the custodian decrypts exactly the committed totals", () => {
    let commitments: InMemoryRoundCommitments;
    let custodian: KeyCustodian;
    let totalsEnvelope: Uint8Array;
    let included: Awaited<ReturnType<typeof verifyUsageBatches>>["included"];

    before(async () => {
      commitments = new InMemoryRoundCommitments();
      // The batches are the period's inputs; the coprocessor commits the one totals envelope as its output.
      for (const batch of batches) commitments.publishInput(period, hashOf(batch));
      included = (
        await verifyUsageBatches(
          batches.map((bytes, i) => ({ commitment: { hash: hashOf(bytes), generations: counts[i] }, bytes })),
          expectations,
        )
      ).included;
      totalsEnvelope = (
        await aggregateUsage(ctx, bundle.galoisKeys!, included, { publicBundleHash: bundle.hash, rules })
      ).envelope;
      commitments.publishOutput(period, hashOf(totalsEnvelope));
      custodian = await KeyCustodian.open(ctx, epoch.keystore, passphrase, { commitments });
    });

    after(() => custodian?.dispose());

    it("releases the flooded totals, and the zero-usage artist earns nothing", async () => {
      const committed = await assertReleasableTotals(ctx, bundle.galoisKeys!, {
        rules,
        publicBundleHash: bundle.hash,
        batches: included,
        committedTotals: hashOf(totalsEnvelope),
        minimumGenerations: 100,
      });
      expect(committed).to.equal(hashOf(totalsEnvelope));
      const release = usageRelease(ctx, rules, { generations: 2500, ciphertexts: 3 });
      const released = await custodian.decryptOutput(period, totalsEnvelope, release);
      expect(released.commitment).to.equal(hashOf(totalsEnvelope));
      expect(released.values).to.have.length(6);
      const totals = released.values.map((v) => v * released.valueScale);
      const expected = plaintextUsageTotals(vectors, 6);
      expect(maxRelativeError(totals, expected)).to.be.below(1e-4);
      const resolution = 8 * released.floodingSigma * released.valueScale;
      expect(resolution).to.be.below(1e-3);
      const { shares } = usageRoyaltyShares(10n ** 18n, totals, { usageWeight: 1, resolution });
      expect(shares[5]).to.equal(0n);
      expect(shares.reduce((a, b) => a + b, 0n)).to.equal(10n ** 18n);
      for (let i = 0; i < 5; i++) {
        expect(Number(shares[i]) / 1e18).to.be.closeTo(expected[i] / expected.reduce((a, b) => a + b, 0), 1e-6);
      }
    });

    it("refuses every batch: a single generation's attribution is never decrypted", async () => {
      const release = usageRelease(ctx, rules, { generations: 1024, ciphertexts: 1 });
      for (const batch of batches) {
        const error = await rejectionOf(custodian.decryptOutput(period, batch, release), DecryptionRefusedError);
        expect(error.reason).to.equal("input-commitment");
      }
    });

    it("refuses a batch even when a malicious coprocessor lists it as an output of another period", async () => {
      commitments.publishOutput(period + 1n, hashOf(batches[0]));
      const release = usageRelease(ctx, rules, { generations: 1024, ciphertexts: 1 });
      const error = await rejectionOf(
        custodian.decryptOutput(period + 1n, batches[0], release),
        DecryptionRefusedError,
      );
      expect(error.reason).to.equal("not-an-aggregate");
    });

    it("refuses an aggregate the coprocessor did not commit (e.g. the sum of one batch)", async () => {
      const partial = await aggregateUsage(ctx, bundle.galoisKeys!, included.slice(0, 1), {
        publicBundleHash: bundle.hash,
        rules,
      });
      const release = usageRelease(ctx, rules, { generations: 1024, ciphertexts: 1 });
      const error = await rejectionOf(
        custodian.decryptOutput(period, partial.envelope, release),
        DecryptionRefusedError,
      );
      expect(error.reason).to.equal("unknown-commitment");
    });

    it("a coprocessor that commits one batch's sum as 'the totals' is caught by the recomputation", async () => {
      const oneBatch = await aggregateUsage(ctx, bundle.galoisKeys!, included.slice(2), {
        publicBundleHash: bundle.hash,
        rules,
      });
      const error = await rejectionOf(
        assertReleasableTotals(ctx, bundle.galoisKeys!, {
          rules,
          publicBundleHash: bundle.hash,
          batches: included,
          committedTotals: hashOf(oneBatch.envelope),
          minimumGenerations: 100,
        }),
        UsageReleaseRefusedError,
      );
      expect(error.reason).to.equal("not-the-recomputed-totals");
    });

    it("refuses a period with fewer generations than the program's minimum", async () => {
      const error = await rejectionOf(
        assertReleasableTotals(ctx, bundle.galoisKeys!, {
          rules,
          publicBundleHash: bundle.hash,
          batches: included.slice(2),
          committedTotals: hashOf(totalsEnvelope),
          minimumGenerations: 1000,
        }),
        UsageReleaseRefusedError,
      );
      expect(error.reason).to.equal("too-few-generations");
      expect(error.details).to.equal("452 < 1000");
    });
  });
});

/** keccak256 of an envelope (initialized in `before`): what the operator and the coprocessor commit. */
function hashOf(bytes: Uint8Array): Hex {
  return keccak256Sync(bytes);
}
