import { expect } from "chai";
import {
  buildEnvelope,
  contributionEnvelopeBytes,
  EnvelopeError,
  EnvelopeKind,
  envelopeCommitment,
  parseEnvelope,
  parseEnvelopeSync,
  ENVELOPE_HEADER_BYTES,
  type EnvelopeProblem,
} from "@ciphershare/protocol/ckks/envelope";
import { encryptModelUpdate, loadEnvelopeChunk } from "@ciphershare/protocol/ckks/update";
import { generateKeys, loadPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { modelUpdateFromArray } from "@ciphershare/protocol/formats/model-update";
import { checksum128Sync, initChecksum } from "@ciphershare/protocol/hashing/checksum";
import { initKeccak, keccak256Sync } from "@ciphershare/protocol/hashing/keccak";
import { hexToBytes } from "@ciphershare/protocol/hex";
import { getParameterSet } from "@ciphershare/protocol/ckks/params";
import { keyedContext, sampleUpdate, seededRandom, type KeyedContext } from "../../support/ckks";
import { rejectionOf } from "../../support/rejection";

describe("ciphertext envelope", () => {
  let fixture: KeyedContext;
  let envelope: Uint8Array;
  before(async () => {
    fixture = await keyedContext();
    envelope = await encryptModelUpdate(
      fixture.ctx,
      fixture.bundle,
      modelUpdateFromArray(sampleUpdate(3000, 1), [30, 100], "fc.weight"),
    );
  });

  it("records kind, parameter set, bundle hash, shape and chunks in its header", async () => {
    const parsed = await parseEnvelope(envelope, {
      kind: EnvelopeKind.Contribution,
      parameterSetId: "fast-v1",
      publicBundleHash: fixture.bundle.hash,
    });
    expect(parsed.header).to.include({
      kind: EnvelopeKind.Contribution,
      parameterSetId: "fast-v1",
      publicBundleHash: fixture.bundle.hash,
      scale: 2 ** 40,
      coeffModulusSize: 3,
      valueCount: 3000,
      chunkCount: 1,
    });
    expect(parsed.header.tensors).to.deep.equal([{ name: "fc.weight", shape: [30, 100] }]);
    expect(parsed.chunks[0].length).to.equal(393_329);
    expect(envelope.length).to.equal(ENVELOPE_HEADER_BYTES + 2 + 2 + 9 + 1 + 8 + 393_329);
  });

  it("knows a contribution's exact size from its parameter set and tensors, before reading it", () => {
    const tensors = [{ name: "fc.weight", shape: [30, 100] }];
    expect(contributionEnvelopeBytes(getParameterSet("fast-v1"), tensors)).to.equal(envelope.length);
    // Two ciphertexts once the values pass the slot count.
    const wide = [{ name: "fc.weight", shape: [4097] }];
    expect(contributionEnvelopeBytes(getParameterSet("fast-v1"), wide)).to.equal(
      ENVELOPE_HEADER_BYTES + 2 + 2 + 9 + 1 + 4 + 2 * 393_329,
    );
  });

  it("rejects another key's envelope, the wrong kind and the wrong parameter set", async () => {
    const otherKeys = generateKeys(fixture.ctx);
    const otherBundle = await loadPublicBundle(fixture.ctx, otherKeys.bundle);
    try {
      const foreign = await encryptModelUpdate(fixture.ctx, otherBundle, modelUpdateFromArray([1, 2, 3]));
      await expectProblem(parseEnvelope(foreign, { publicBundleHash: fixture.bundle.hash }), "wrong-public-bundle");
    } finally {
      otherBundle.dispose();
    }
    await expectProblem(parseEnvelope(envelope, { kind: EnvelopeKind.Aggregate }), "wrong-kind");
    await expectProblem(parseEnvelope(envelope, { parameterSetId: "deep-v1" }), "wrong-parameter-set");
    await expectProblem(parseEnvelope(envelope, { maxBytes: 1000 }), "too-large");
  });

  it("rejects truncated and padded files", async () => {
    await expectProblem(parseEnvelope(envelope.subarray(0, 50)), "truncated");
    await expectProblem(parseEnvelope(envelope.subarray(0, envelope.length - 1)), "truncated");
    const padded = new Uint8Array(envelope.length + 3);
    padded.set(envelope);
    await expectProblem(parseEnvelope(padded), "length-mismatch");
  });

  it("catches a bit flip anywhere in the ciphertext bytes (checksum)", async () => {
    const copy = envelope.slice();
    copy[copy.length - 1000] ^= 0x10;
    await expectProblem(parseEnvelope(copy), "checksum-mismatch");
  });

  it("rejects ciphertext bytes SEAL refuses even under a re-stamped checksum", async () => {
    // An attacker who rewrites the checksum passes the header check; SEAL's own validation
    // (here: a coefficient ≥ its modulus) still refuses the chunk, as a clear EnvelopeError.
    const copy = envelope.slice();
    const chunkStart = copy.length - 393_329;
    copy.fill(0xff, chunkStart + 200, chunkStart + 208);
    await restamp(copy);
    const parsed = await parseEnvelope(copy);
    expect(() => loadEnvelopeChunk(fixture.ctx, parsed, 0).delete())
      .to.throw(EnvelopeError)
      .with.property("problem", "bad-ciphertext");
  });

  it("rejects thousands of random mutations, each with an EnvelopeError naming the problem", async function () {
    await initChecksum();
    const random = seededRandom(20261121);
    const counts = new Map<string, number>();
    const mutations = 5000;
    const headerRegion = ENVELOPE_HEADER_BYTES + 30;
    const original = envelope.slice();
    for (let m = 0; m < mutations; m++) {
      const kind = Math.floor(random() * 6);
      let candidate = envelope;
      let undo = () => {};
      if (kind <= 1) {
        // bit flip: half in the header/manifest, half anywhere
        const position = Math.floor(random() * (kind === 0 ? headerRegion : envelope.length));
        const bit = 1 << Math.floor(random() * 8);
        envelope[position] ^= bit;
        undo = () => (envelope[position] ^= bit);
      } else if (kind === 2) {
        // random byte value in the header
        const position = Math.floor(random() * headerRegion);
        const previous = envelope[position];
        let next = Math.floor(random() * 256);
        if (next === previous) next = (next + 1) & 0xff;
        envelope[position] = next;
        undo = () => (envelope[position] = previous);
      } else if (kind === 3) {
        candidate = envelope.subarray(0, Math.floor(random() * envelope.length));
      } else if (kind === 4) {
        const extra = 1 + Math.floor(random() * 64);
        candidate = new Uint8Array(envelope.length + extra);
        candidate.set(envelope);
        for (let i = envelope.length; i < candidate.length; i++) candidate[i] = Math.floor(random() * 256);
      } else {
        // overwrite a 4-byte header word (lengths, counts, scale) with a random value
        const position = 4 * Math.floor((random() * (ENVELOPE_HEADER_BYTES - 4)) / 4);
        const previous = envelope.slice(position, position + 4);
        const word = Math.floor(random() * 2 ** 32);
        const before = new DataView(envelope.buffer, envelope.byteOffset).getUint32(position);
        new DataView(envelope.buffer, envelope.byteOffset).setUint32(position, word === before ? word ^ 1 : word);
        undo = () => envelope.set(previous, position);
      }
      try {
        parseEnvelopeSync(candidate);
        expect.fail(`mutation ${m} (kind ${kind}) was accepted`);
      } catch (error) {
        if (!(error instanceof EnvelopeError)) {
          throw new Error(`mutation ${m} (kind ${kind}) threw ${String(error)}`, { cause: error });
        }
        expect(error).to.be.instanceOf(CipherShareError);
        expect(error.message).to.match(/^Invalid ciphertext envelope \([a-z-]+\): /);
        counts.set(error.problem, (counts.get(error.problem) ?? 0) + 1);
      } finally {
        undo();
      }
    }
    expect(envelope).to.deep.equal(original);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).to.equal(mutations);
    // Mutations were caught by many different checks, not just the final hash.
    expect(counts.size).to.be.at.least(8);
    this.test!.title += ` [${[...counts.entries()].map(([p, n]) => `${p}:${n}`).join(" ")}]`;
  });

  it("never crashes on SEAL-level corruption under a re-stamped checksum: loads or rejects clearly", async () => {
    // Past the checksum only SEAL's own checks remain; they must fail as EnvelopeErrors, not crashes.
    const random = seededRandom(7);
    const chunkStart = envelope.length - 393_329;
    let rejected = 0;
    for (let m = 0; m < 300; m++) {
      const copy = envelope.slice();
      // SEAL's serialization header and the ciphertext metadata (first 113 bytes), then anywhere
      const position = chunkStart + Math.floor(random() * (m % 2 === 0 ? 113 : 393_329));
      copy[position] ^= 1 << Math.floor(random() * 8);
      await restamp(copy);
      let parsed;
      try {
        parsed = parseEnvelopeSync(copy);
      } catch (error) {
        expect(error).to.be.instanceOf(EnvelopeError);
        rejected++;
        continue;
      }
      try {
        loadEnvelopeChunk(fixture.ctx, parsed, 0).delete();
      } catch (error) {
        expect(error, String(error)).to.be.instanceOf(EnvelopeError);
        expect((error as EnvelopeError).problem).to.equal("bad-ciphertext");
        rejected++;
      }
    }
    expect(rejected).to.be.at.least(100);
  });

  it("carries an output's value exponent (how far it was scaled down); a contribution's is always 0", async () => {
    const parsed = await parseEnvelope(envelope);
    expect(parsed.header.valueExponent).to.equal(0);
    const output = (valueExponent: number) =>
      buildEnvelope(
        {
          kind: EnvelopeKind.Aggregate,
          parameterSet: fixture.ctx.parameterSet,
          publicBundleHash: fixture.bundle.hash,
          scale: parsed.header.scale,
          coeffModulusSize: parsed.header.coeffModulusSize,
          ciphertextSize: 2,
          valueExponent,
          tensors: parsed.header.tensors,
        },
        parsed.chunks,
      );
    for (const valueExponent of [5, -3, 0]) {
      expect((await parseEnvelope(await output(valueExponent))).header.valueExponent).to.equal(valueExponent);
    }
    await expectProblem(output(100), "bad-value-exponent");
    const scaledContribution = envelope.slice();
    scaledContribution[9] = 5;
    await restamp(scaledContribution);
    await expectProblem(parseEnvelope(scaledContribution), "bad-value-exponent");
  });

  it("has a commitment that is the keccak256 of the whole envelope", async () => {
    await initKeccak();
    expect(await envelopeCommitment(envelope)).to.equal(keccak256Sync(envelope));
  });
});

/** Recomputes the checksum as an attacker could (it catches accidents; the on-chain keccak binds owners). */
async function restamp(bytes: Uint8Array): Promise<void> {
  await initChecksum();
  bytes.fill(0, 52, 68);
  bytes.set(hexToBytes(checksum128Sync([bytes]), 16), 52);
}

async function expectProblem(promise: Promise<unknown>, problem: EnvelopeProblem): Promise<void> {
  expect((await rejectionOf(promise, EnvelopeError)).problem).to.equal(problem);
}
