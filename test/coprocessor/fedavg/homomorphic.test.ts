import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { decryptEnvelopeValues, encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { EnvelopeError, EnvelopeKind, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { sealHeapBytes } from "@ciphershare/protocol/ckks/seal";
import { serializePublicBundle } from "@ciphershare/protocol/ckks/keys";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { fedAvgEncrypted, type EncryptedClientUpdate } from "@ciphershare/coprocessor/fedavg/homomorphic";
import { fedAvgPlain } from "@ciphershare/coprocessor/fedavg/weights";
import { modelUpdateFromArray } from "@ciphershare/protocol/formats/model-update";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { keyedContext, maxAbsError, sampleUpdate, type KeyedContext } from "../../support/ckks";
import { rejectionOf } from "../../support/rejection";

describe("homomorphic FedAvg", () => {
  let fixture: KeyedContext;
  const length = 10_000; // 3 chunks at 4096 slots, the last partial
  const counts = [120, 0, 37, 1, 5000, 64, 300];
  let updates: Float64Array[];
  let envelopes: Uint8Array[];

  before(async () => {
    fixture = await keyedContext();
    updates = counts.map((_, i) => sampleUpdate(length, 100 + i));
    envelopes = [];
    for (const update of updates) {
      envelopes.push(await encryptModelUpdate(fixture.ctx, fixture.bundle, modelUpdateFromArray(update, [100, 100])));
    }
  });

  const aggregate = (
    subset: readonly EncryptedClientUpdate[] = envelopes.map((envelope, i) => ({ envelope, sampleCount: counts[i] })),
  ) => fedAvgEncrypted(fixture.ctx, subset, { publicBundleHash: fixture.bundle.hash });

  it("matches the float64 FedAvg reference (7 clients incl. one with 0 samples, 10k params)", async function () {
    const output = await aggregate();
    const parsed = await parseEnvelope(output, { kind: EnvelopeKind.Aggregate, publicBundleHash: fixture.bundle.hash });
    expect(parsed.header.tensors).to.deep.equal([{ name: "update", shape: [100, 100] }]);
    expect(parsed.header.coeffModulusSize).to.equal(2);
    const decrypted = decryptEnvelopeValues(fixture.ctx, parsed, fixture.secret.decryptor);
    const error = maxAbsError(decrypted, fedAvgPlain(updates, counts));
    this.test!.title += ` [max abs error ${error.toExponential(2)}]`;
    expect(error).to.be.below(1e-6);
  });

  it("handles a single client and many clients with equal counts", async () => {
    const single = await aggregate([{ envelope: envelopes[2], sampleCount: 9 }]);
    const singleValues = decryptEnvelopeValues(fixture.ctx, await parseEnvelope(single), fixture.secret.decryptor);
    expect(maxAbsError(singleValues, updates[2])).to.be.below(1e-6);
    const many = Array.from({ length: 20 }, (_, i) => ({ envelope: envelopes[i % envelopes.length], sampleCount: 1 }));
    const manyValues = decryptEnvelopeValues(
      fixture.ctx,
      await parseEnvelope(await aggregate(many)),
      fixture.secret.decryptor,
    );
    const reference = fedAvgPlain(
      many.map((_, i) => updates[i % updates.length]),
      many.map(() => 1),
    );
    expect(maxAbsError(manyValues, reference)).to.be.below(1e-6);
  });

  it("refuses mismatched shapes, foreign bundles, aggregates as inputs and bad counts", async () => {
    const otherShape = await encryptModelUpdate(
      fixture.ctx,
      fixture.bundle,
      modelUpdateFromArray(updates[0], [10_000]),
    );
    await rejectionOf(
      aggregate([
        { envelope: envelopes[0], sampleCount: 1 },
        { envelope: otherShape, sampleCount: 1 },
      ]),
      InvalidInputError,
      /same tensor names and shapes/,
    );
    await rejectionOf(
      fedAvgEncrypted(fixture.ctx, [{ envelope: envelopes[0], sampleCount: 1 }], {
        publicBundleHash: `0x${"11".repeat(32)}`,
      }),
      EnvelopeError,
      /wrong-public-bundle/,
    );
    const output = await aggregate();
    await rejectionOf(aggregate([{ envelope: output, sampleCount: 1 }]), EnvelopeError, /wrong-kind/);
    await rejectionOf(aggregate([{ envelope: envelopes[0], sampleCount: -1 }]), InvalidInputError, /client 0/);
  });

  it("gives bit-identical output bytes in a separate process (auditors compare hashes)", async () => {
    const directory = mkdtempSync(join(tmpdir(), "ciphershare-fedavg-"));
    try {
      writeFileSync(join(directory, "bundle.bin"), serializePublicBundle(fixture.keys.bundle));
      writeFileSync(join(directory, "job.json"), JSON.stringify({ counts }));
      envelopes.forEach((envelope, i) => writeFileSync(join(directory, `client-${i}.bin`), envelope));
      const child = promisify(execFile)(
        process.execPath,
        ["--import", "tsx", join(__dirname, "aggregate-child.ts"), directory],
        { maxBuffer: 1 << 20 },
      );
      const here = await keccak256(await aggregate());
      const again = await keccak256(await aggregate());
      const { stdout } = await child;
      expect(again).to.equal(here);
      expect(stdout.trim()).to.equal(here);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("keeps the WASM heap flat over thousands of operations", async function () {
    const clients = envelopes.slice(0, 3).map((envelope, i) => ({ envelope, sampleCount: i + 1 }));
    const parsed = await Promise.all(clients.map(async (c) => ({ ...c, envelope: await parseEnvelope(c.envelope) })));
    // Warm up: the heap grows to its working size once.
    for (let i = 0; i < 3; i++) await aggregate(parsed);
    const before = await sealHeapBytes();
    let operations = 0;
    for (let i = 0; i < 60; i++) {
      await aggregate(parsed); // 3 clients × 3 chunks: 9 loads, 9 multiplyPlain, 6 adds, 3 rescales, 3 saves, 3 encodes
      operations += 33;
    }
    for (let i = 0; i < 150; i++) {
      const ciphertext = fixture.ctx.encrypt(updates[0].subarray(0, 4096), fixture.bundle.encryptor);
      fixture.ctx.decrypt(ciphertext, fixture.secret.decryptor);
      ciphertext.delete();
      operations += 5; // encode, encrypt, decrypt, decode, delete
    }
    const after = await sealHeapBytes();
    this.test!.title += ` [${operations} ops, heap ${mb(before)} → ${mb(after)} MB]`;
    expect(operations).to.be.at.least(2000);
    expect(after - before).to.be.at.most(1 << 20);

    // The probe does see leaks: 40 undeleted ciphertexts grow the heap by ~15 MB.
    const leaked = Array.from({ length: 40 }, () =>
      fixture.ctx.encrypt(updates[0].subarray(0, 10), fixture.bundle.encryptor),
    );
    const leakedHeap = await sealHeapBytes();
    leaked.forEach((ciphertext) => ciphertext.delete());
    expect(leakedHeap - after).to.be.at.least(10 << 20);
  });
});

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
