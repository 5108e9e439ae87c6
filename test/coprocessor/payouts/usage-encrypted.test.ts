import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, loadPublicBundle, loadSecretKey, powerOfTwoSteps } from "@ciphershare/protocol/ckks/keys";
import { aggregateUsageScores, encryptUsageReport } from "@ciphershare/coprocessor/payouts/usage-encrypted";
import { usageScores } from "@ciphershare/coprocessor/payouts/usage";
import { largestRemainderShares } from "@ciphershare/coprocessor/payouts/shares";

describe("shapley: encrypted usage royalties (fast-v1)", function () {
  this.timeout(120_000);

  it("aggregates encrypted capped usage reports into one ciphertext of scores matching the plaintext rules", async () => {
    const ctx = await CkksContext.create("fast-v1");
    const keys = generateKeys(ctx, { galoisSteps: powerOfTwoSteps(ctx.slotCount, false) });
    const bundle = await loadPublicBundle(ctx, keys.bundle);
    const secret = loadSecretKey(ctx, keys.secretKey);
    const rules = {
      usageTypes: [
        { name: "inference", weight: 0.01, cap: 1000 },
        { name: "style-generation", weight: 2, cap: 50 },
        { name: "download", weight: 0.5, cap: 10 },
      ],
    };
    const reports = [
      [
        [120, 3, 1],
        [5000, 0, 0],
      ],
      [],
      [[0, 80, 2]],
    ];
    const encrypted = reports.map((list) =>
      list.map((counts) => encryptUsageReport(ctx, rules, counts, bundle.encryptor)),
    );
    const scores = aggregateUsageScores(ctx, bundle.galoisKeys!, rules, encrypted);
    const slots = ctx.decrypt(scores, secret.decryptor);
    const expected = usageScores(rules, reports);
    expected.forEach((value, i) => expect(slots[i]).to.be.closeTo(value, 1e-4));
    for (let s = reports.length; s < 64; s++) expect(Math.abs(slots[s])).to.be.below(1e-4);
    const { shares, flagged } = largestRemainderShares(
      10n ** 18n,
      Array.from(slots.subarray(0, 3), (v) => Math.round(v * 1e4) / 1e4),
    );
    expect(shares.reduce((a, b) => a + b, 0n)).to.equal(10n ** 18n);
    expect(flagged).to.deep.equal([1]);
    scores.delete();
    encrypted.flat().forEach((c) => c.delete());
    secret.dispose();
    bundle.dispose();
    ctx.dispose();
  });
});
