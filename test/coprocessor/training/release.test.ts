import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import { generateKeys, loadPublicBundle, loadSecretKey } from "@ciphershare/protocol/ckks/keys";
import { KeyCustodian } from "@ciphershare/coprocessor/keys/key-custodian";
import { openKeystore, TEST_SCRYPT } from "@ciphershare/coprocessor/keys/keystore";
import { DecryptionRefusedError, InMemoryRoundCommitments } from "@ciphershare/coprocessor/keys/policy";
import { aggregateSystem } from "@ciphershare/coprocessor/training/aggregate";
import { encryptForBuyer, solveMaskedSystem } from "@ciphershare/coprocessor/training/custodian";
import { decryptMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import {
  buyerGaloisSteps,
  modelLayout,
  programGaloisSteps,
  systemLayout,
} from "@ciphershare/coprocessor/training/keys";
import { drawMask, maskedSystem, unmaskModel } from "@ciphershare/coprocessor/training/mask";
import { encryptStatistics } from "@ciphershare/coprocessor/training/provider";
import {
  loadMatrixEnvelope,
  maskedSystemRelease,
  matrixEnvelope,
  matrixFromSlots,
} from "@ciphershare/coprocessor/training/release";
import { maxRelativeError, pooledStatistics, ridgeFromStatistics } from "@ciphershare/coprocessor/training/ridge";
import { providerStatistics } from "@ciphershare/protocol/training/statistics";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import { syntheticRows } from "./fixtures";

// The round's path of the masked system as outputs: envelopes, the custodian's policy and flooding, the buyer's key.
describe("training: the masked system released as a round output (policy, flooding, buyer's key)", function () {
  const shape = { features: 6, outputs: 2 };
  const lambda = 0.01;
  const passphrase = "test custodian passphrase";
  const stats = [0, 1, 2].map((k) => {
    const { x, y } = syntheticRows(40 + 10 * k, shape.features, shape.outputs, 30 + k);
    return providerStatistics(x, y, shape);
  });
  const reference = ridgeFromStatistics(pooledStatistics(stats, shape), lambda);
  const totalRows = stats.reduce((sum, s) => sum + s.rows, 0);
  const seen: {
    w?: Matrix;
    byCustodianKey?: Matrix;
    byOtherKey?: Matrix;
    refusedU?: unknown;
    refusedSystem?: unknown;
    floodingSigma?: number;
  } = {};

  before(async function () {
    const ctx = await CkksContext.create("deep-v2");
    const program = await KeyCustodian.generateEpochKeys(
      ctx,
      passphrase,
      { galoisSteps: programGaloisSteps(shape, ctx.slotCount) },
      TEST_SCRYPT,
    );
    const programBundle = await loadPublicBundle(ctx, program.bundleBytes);
    const buyer = generateKeys(ctx, { galoisSteps: buyerGaloisSteps(shape, ctx.slotCount) });
    const buyerBundle = await loadPublicBundle(ctx, buyer.bundle);
    const other = generateKeys(ctx);
    const commitments = new InMemoryRoundCommitments();
    const custodian = await KeyCustodian.open(ctx, program.keystore, passphrase, { commitments });
    const custodianSecret = (await openKeystore(program.keystore, passphrase)).secretKey;
    const custodianKey = loadSecretKey(ctx, custodianSecret);
    const buyerKey = loadSecretKey(ctx, buyer.secretKey);
    const otherKey = loadSecretKey(ctx, other.secretKey);
    try {
      const uploads = stats.map((s) => encryptStatistics(ctx, s, shape, programBundle.encryptor));
      const system = aggregateSystem(
        ctx,
        uploads,
        stats.map((s) => s.rows),
        lambda,
      );
      const mask = drawMask(shape, totalRows);
      const masked = maskedSystem(ctx, programBundle.galoisKeys!, system, mask, shape);
      const maskedBytes = await matrixEnvelope(ctx, masked, program.publicBundleHash);
      const systemBytes = await matrixEnvelope(ctx, system, program.publicBundleHash);
      commitments.publishOutput(1n, await envelopeCommitment(maskedBytes));

      seen.refusedSystem = await custodian
        .decryptOutput(1n, systemBytes, maskedSystemRelease(ctx, shape, { providers: 3, totalRows }))
        .catch((error: unknown) => error);
      const released = await custodian.decryptOutput(
        1n,
        maskedBytes,
        maskedSystemRelease(ctx, shape, { providers: 3, totalRows }),
      );
      seen.floodingSigma = released.floodingSigma * released.valueScale;
      const view = matrixFromSlots(systemLayout(shape, ctx.slotCount), released.values, released.valueScale);
      const u = encryptForBuyer(ctx, solveMaskedSystem(view, shape), shape, buyerBundle.encryptor);
      const uBytes = await matrixEnvelope(ctx, u, buyerBundle.hash);
      seen.refusedU = await custodian
        .decryptOutput(1n, uBytes, maskedSystemRelease(ctx, shape, { providers: 3, totalRows }))
        .catch((error: unknown) => error);
      const loadedU = await loadMatrixEnvelope(ctx, uBytes, modelLayout(shape, ctx.slotCount), buyerBundle.hash);
      const w = unmaskModel(ctx, buyerBundle.galoisKeys!, loadedU, mask, shape);
      const wBytes = await matrixEnvelope(ctx, w, buyerBundle.hash);
      const loadedW = await loadMatrixEnvelope(ctx, wBytes, modelLayout(shape, ctx.slotCount), buyerBundle.hash);
      seen.w = decryptMatrix(ctx, loadedW, buyerKey.decryptor);
      seen.byCustodianKey = decryptMatrix(ctx, loadedW, custodianKey.decryptor);
      seen.byOtherKey = decryptMatrix(ctx, loadedW, otherKey.decryptor);
      for (const m of [...uploads, system, masked, u, loadedU, w, loadedW]) m.dispose();
    } finally {
      custodianSecret.fill(0);
      for (const k of [custodianKey, buyerKey, otherKey, programBundle, buyerBundle]) k.dispose();
      custodian.dispose();
      ctx.dispose();
    }
  });

  it("the buyer decrypts W close to plaintext ridge through the flooded release", function () {
    expect(seen.floodingSigma).to.be.greaterThan(0);
    expect(maxRelativeError(seen.w!, reference)).to.be.below(1e-4);
  });

  it("neither the custodian's key nor another key decrypts W", function () {
    expect(maxRelativeError(seen.byCustodianKey!, reference)).to.be.above(0.5);
    expect(maxRelativeError(seen.byOtherKey!, reference)).to.be.above(0.5);
  });

  it("the custodian refuses the unmasked system and U: only the committed masked system is released", function () {
    expect(seen.refusedSystem).to.be.instanceOf(DecryptionRefusedError);
    expect(seen.refusedU).to.be.instanceOf(DecryptionRefusedError);
  });
});
