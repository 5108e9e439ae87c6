import { expect } from "chai";
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { generateKeys, loadPublicBundle, powerOfTwoSteps, publicBundleHash } from "@ciphershare/protocol/ckks/keys";
import { decryptToCoefficients, twoRunErrorL2 } from "@ciphershare/coprocessor/threshold/error-measurement";
import { soleKeyShare } from "@ciphershare/coprocessor/threshold/key-share";
import { aggregateUsage } from "@ciphershare/coprocessor/usage/aggregate";
import { encryptUsageBatch, parseUsageBatch } from "@ciphershare/coprocessor/usage/batch";
import { usageRelease } from "@ciphershare/coprocessor/usage/release";
import { syntheticAttributions } from "@ciphershare/coprocessor/usage/synthetic";
import { sharedContext } from "../../support/ckks";

// The flooding of the released totals is sized from usageNoiseBound: an honest run's error must stay under it.
describe("usage: the totals' error bound against honest runs (deep-v2)", function () {
  this.timeout(600_000);

  it("the measured ‖e‖₂ of the totals ciphertext stays under the bound the release floods for", async () => {
    const ctx: CkksContext = await sharedContext("deep-v2");
    const rules = { contributors: 6, generationCap: 1 };
    const vectors = syntheticAttributions(3000, 6, { seed: 13 });
    const runs: bigint[][] = [];
    for (let run = 0; run < 2; run++) {
      const keys = generateKeys(ctx, { galoisSteps: powerOfTwoSteps(ctx.slotCount, false) });
      const hash = await publicBundleHash(keys.bundle);
      const bundle = await loadPublicBundle(ctx, keys.bundle);
      const expect_ = { parameterSetId: ctx.parameterSet.id, publicBundleHash: hash, contributors: 6, slotCount: 8192 };
      const batches = [];
      for (const slice of [vectors.slice(0, 1500), vectors.slice(1500)]) {
        batches.push(await parseUsageBatch(await encryptUsageBatch(ctx, { ...bundle, hash }, rules, slice), expect_));
      }
      const { envelope } = await aggregateUsage(ctx, bundle.galoisKeys!, batches, { publicBundleHash: hash, rules });
      const [chunk] = (await parseEnvelope(envelope)).chunks;
      runs.push(decryptToCoefficients(ctx, chunk, soleKeyShare(ctx, keys.secretKey, hash)));
      bundle.dispose();
    }
    const measured = twoRunErrorL2(runs[0], runs[1]);
    const { errorBound } = usageRelease(ctx, rules, { generations: 3000, ciphertexts: 4 });
    const log = (x: number) => Math.log2(x).toFixed(1);
    const note = `measured 2^${log(measured)}, model 2^${log(errorBound.expectedL2)}, bound 2^${log(errorBound.l2)}`;
    expect(measured, note).to.be.below(errorBound.l2);
    // Linear worst-case folding makes the bound loose, but not absurdly so.
    expect(errorBound.l2 / measured, note).to.be.below(2 ** 12);
  });
});
