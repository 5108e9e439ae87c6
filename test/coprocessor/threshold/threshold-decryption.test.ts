import { expect } from "chai";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { envelopeCommitment, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { loadSecretKey } from "@ciphershare/protocol/ckks/keys";
import { sealHeapBytes } from "@ciphershare/protocol/ckks/seal";
import { fedAvgEncrypted } from "@ciphershare/coprocessor/fedavg/homomorphic";
import { fedAvgPlain, fedAvgWeights } from "@ciphershare/coprocessor/fedavg/weights";
import { modelUpdateFromArray } from "@ciphershare/protocol/formats/model-update";
import { combineCiphertext, combinePartialDecryptions } from "@ciphershare/coprocessor/threshold/combine";
import {
  dealKeyShares,
  keyShareCommitment,
  parseKeyShare,
  serializeKeyShare,
  type KeyShare,
} from "@ciphershare/coprocessor/threshold/key-share";
import { fedAvgNoiseBound, noiseParameters } from "@ciphershare/coprocessor/threshold/noise-bound";
import { MalformedShareError, ReleaseRangeError, ThresholdError } from "@ciphershare/coprocessor/threshold/errors";
import { modulusChain } from "@ciphershare/coprocessor/threshold/modulus-chain";
import {
  parsePartialDecryption,
  partialDecryptCiphertext,
  partialDecryptEnvelope,
  serializePartialDecryption,
  type PartialDecryption,
} from "@ciphershare/coprocessor/threshold/partial-decryption";
import { releasedNoiseStd, smudgingSigma } from "@ciphershare/coprocessor/threshold/flooding";
import { keyedContext, maxAbsError, sampleUpdate, type KeyedContext } from "../../support/ckks";
import { rejectionOf } from "../../support/rejection";
import { withByte, withU64 } from "./bytes";

/** Every k-subset of 1…n. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k), ...subsets(n - 1, k - 1).map((s) => [...s, n])];
}

describe("threshold: t-of-n decryption with flooding (deep-v2)", function () {
  this.timeout(600_000);
  let fixture: KeyedContext;
  let output: Uint8Array;
  let reference: Float64Array;
  let sigma: number;
  let twoOfThree: KeyShare[];
  let threeOfFive: KeyShare[];
  const counts = [50, 30, 20];

  before(async () => {
    fixture = await keyedContext("deep-v2");
    const { ctx, bundle, keys } = fixture;
    const updates = counts.map((_, i) => sampleUpdate(7850, 40 + i));
    const envelopes: Uint8Array[] = [];
    for (const update of updates) envelopes.push(await encryptModelUpdate(ctx, bundle, modelUpdateFromArray(update)));
    output = await fedAvgEncrypted(
      ctx,
      envelopes.map((envelope, i) => ({ envelope, sampleCount: counts[i] })),
      { publicBundleHash: bundle.hash },
    );
    reference = fedAvgPlain(updates, counts);
    sigma = smudgingSigma(fedAvgNoiseBound(noiseParameters(ctx), fedAvgWeights(counts)).l2);
    const dealt = (threshold: number, members: number) =>
      dealKeyShares(ctx, Uint8Array.from(keys.secretKey), { threshold, members, publicBundleHash: bundle.hash });
    twoOfThree = dealt(2, 3);
    threeOfFive = dealt(3, 5);
  });

  const partialsOf = (shares: KeyShare[], set: number[], s = sigma) =>
    Promise.all(
      set.map((m) =>
        partialDecryptEnvelope(fixture.ctx, output, { share: shares[m - 1], decryptingSet: set, sigma: s }),
      ),
    );

  it("without noise, any t shares reproduce SEAL's own decryption exactly", async () => {
    const { ctx, secret } = fixture;
    const envelope = await parseEnvelope(output);
    const ciphertext = ctx.loadCiphertext(envelope.chunks[0]);
    const expected = ctx.decrypt(ciphertext, secret.decryptor);
    ciphertext.delete();
    for (const [shares, set] of [
      [twoOfThree, [2, 3]],
      [threeOfFive, [1, 4, 5]],
      [threeOfFive, [1, 2, 3, 4, 5]],
    ] as const) {
      const partials = await partialsOf(shares, [...set], 0);
      const slots = combineCiphertext(
        ctx,
        envelope.chunks[0],
        partials.map((p) => p.chunks[0]),
      );
      expect(slots).to.deep.equal(expected);
    }
  });

  it("any t of n members decrypt the aggregate to within the flooding the bound prescribes", async function () {
    const n = fixture.ctx.parameterSet.polyModulusDegree;
    const scale = (await parseEnvelope(output)).header.scale;
    let worst = 0;
    for (const [shares, sets] of [
      [twoOfThree, [...subsets(3, 2), [1, 2, 3]]],
      [threeOfFive, subsets(5, 3)],
    ] as const) {
      for (const set of sets) {
        const release = await combinePartialDecryptions(fixture.ctx, output, await partialsOf(shares, [...set]));
        expect(release.decryptingSet).to.deep.equal(set);
        const std = releasedNoiseStd(sigma, set.length, n, scale);
        let squares = 0;
        for (let i = 0; i < reference.length; i++) squares += (release.values[i] - reference[i]) ** 2;
        const measured = Math.sqrt(squares / reference.length);
        expect(measured).to.be.within(0.9 * std, 1.1 * std);
        expect(maxAbsError(release.values, reference)).to.be.below(6 * std);
        worst = Math.max(worst, maxAbsError(release.values, reference));
      }
    }
    this.test!.title += ` [σ = 2^${Math.log2(sigma).toFixed(1)}, max error ${worst.toExponential(2)}]`;
    expect(worst).to.be.below(1e-8);
  });

  it("combines deterministically: the same partials in any order give the same values (auditors redo it)", async () => {
    const partials = await partialsOf(threeOfFive, [1, 3, 4, 5]);
    const bytes = partials.map(serializePartialDecryption);
    const once = await combinePartialDecryptions(fixture.ctx, output, bytes);
    const reversed = await combinePartialDecryptions(fixture.ctx, output, [...bytes].reverse());
    const parsed = await combinePartialDecryptions(fixture.ctx, output, [bytes[2], partials[0], bytes[3], partials[1]]);
    expect(reversed.values).to.deep.equal(once.values);
    expect(parsed.values).to.deep.equal(once.values);
  });

  it("the combiner refuses fewer partials than the decrypting set, duplicates and mixed sets", async () => {
    const [p1, p2] = await partialsOf(twoOfThree, [1, 2]);
    const [q1, q3] = await partialsOf(twoOfThree, [1, 3]);
    await rejectionOf(combinePartialDecryptions(fixture.ctx, output, [p1]), ThresholdError, /Every member/);
    await rejectionOf(combinePartialDecryptions(fixture.ctx, output, []), ThresholdError, /No partial/);
    await rejectionOf(combinePartialDecryptions(fixture.ctx, output, [p1, p1]), MalformedShareError, /same member/);
    await rejectionOf(
      combinePartialDecryptions(fixture.ctx, output, [p1, q3]),
      MalformedShareError,
      /different decrypting sets/,
    );
    await rejectionOf(
      combinePartialDecryptions(fixture.ctx, output, [q1, p2]),
      MalformedShareError,
      /different decrypting sets/,
    );
    expect(() => normalizeFewer()).to.throw(MalformedShareError, /fewer members than the threshold/);
    function normalizeFewer() {
      return partialDecryptCiphertext(fixture.ctx, new Uint8Array(0), {
        share: twoOfThree[0],
        decryptingSet: [1],
        sigma,
      });
    }
  });

  it("t − 1 partial decryptions are independent of the plaintext (two-sample test, fast-v1); t are not", async () => {
    // For each trial: a fresh 2-of-3 sharing and a fresh encryption of plaintext A (zeros) or B (ones);
    // the attacker adds member 1's partial for the set {1, 2} to c0. Compare the residues it gets.
    const small = await keyedContext("fast-v1");
    const { ctx, bundle, keys } = small;
    const q = Number(modulusChain(ctx).levels[0].primes[0]);
    const positions = 48;
    const collect = (value: number, trials: number) => {
      const below: number[] = [];
      const decoded: number[] = [];
      const full: number[] = [];
      for (let trial = 0; trial < trials; trial++) {
        const shares = dealKeyShares(ctx, Uint8Array.from(keys.secretKey), {
          threshold: 2,
          members: 3,
          publicBundleHash: bundle.hash,
        });
        const ciphertext = ctx.encrypt(new Float64Array(ctx.slotCount).fill(value), bundle.encryptor);
        const bytes = ctx.saveCiphertext(ciphertext);
        ciphertext.delete();
        const partial = (member: number) =>
          partialDecryptCiphertext(ctx, bytes, { share: shares[member - 1], decryptingSet: [1, 2], sigma: 2 ** 20 });
        const d1 = partial(1);
        // c0 + d1 at the first prime (NTT form), scaled to [0, 1).
        const c0 = new BigUint64Array(bytes.slice(113, 113 + 8 * positions).buffer);
        for (let c = 0; c < positions; c++) below.push(Number((c0[c] + d1[c]) % BigInt(q)) / q);
        decoded.push(combineCiphertext(ctx, bytes, [d1])[0]);
        full.push(combineCiphertext(ctx, bytes, [d1, partial(2)])[0]);
      }
      return { below, decoded, full };
    };
    const a = collect(0, 60);
    const b = collect(1, 60);
    const critical = (n: number, m: number) => 1.95 * Math.sqrt((n + m) / (n * m)); // α = 0.001
    expect(ksTwoSample(a.below, b.below)).to.be.below(critical(a.below.length, b.below.length));
    expect(ksUniform(a.below)).to.be.below(1.95 / Math.sqrt(a.below.length));
    expect(ksTwoSample(a.decoded, b.decoded)).to.be.below(critical(a.decoded.length, b.decoded.length));
    expect(Math.min(...a.decoded.map(Math.abs))).to.be.above(1e6);
    // The same statistic on t partials separates the plaintexts completely.
    expect(ksTwoSample(a.full, b.full)).to.equal(1);
    expect(maxAbsError(a.full, new Float64Array(a.full.length))).to.be.below(1e-3);
  });

  it("a member's share used as a secret key decrypts nothing useful", async () => {
    const { ctx } = fixture;
    const envelope = await parseEnvelope(output);
    for (const share of [twoOfThree[0], threeOfFive[4]]) {
      const loaded = loadSecretKey(ctx, serializeKeyShare(share).subarray(44));
      const ciphertext = ctx.loadCiphertext(envelope.chunks[0]);
      const values = ctx.decrypt(ciphertext, loaded.decryptor);
      ciphertext.delete();
      loaded.dispose();
      const wrong = values.subarray(0, reference.length).filter((v, i) => Math.abs(v - reference[i]) > 1);
      expect(wrong.length).to.be.above(reference.length * 0.99);
    }
  });

  it("refuses contributions, other bundles, malformed partials and foreign envelopes with clear errors", async () => {
    const { ctx, bundle } = fixture;
    const contribution = await encryptModelUpdate(ctx, bundle, modelUpdateFromArray([1, 2, 3]));
    const request = { share: twoOfThree[0], decryptingSet: [1, 2], sigma };
    await rejectionOf(partialDecryptEnvelope(ctx, contribution, request), ThresholdError, /contribution envelope/);
    const otherBundle = { ...twoOfThree[0], publicBundleHash: `0x${"11".repeat(32)}` as const };
    await rejectionOf(
      partialDecryptEnvelope(ctx, output, { ...request, share: otherBundle }),
      ThresholdError,
      /another public bundle/,
    );
    await rejectionOf(
      partialDecryptEnvelope(ctx, output, { ...request, sigma: 2 ** 200 }),
      ThresholdError,
      /σ must be a finite number|wrap around/,
    );

    const partial = await partialDecryptEnvelope(ctx, output, request);
    const bytes = serializePartialDecryption(partial);
    expect(parsePartialDecryption(ctx, bytes)).to.deep.equal(partial);
    const mutations: [string, Uint8Array, RegExp][] = [
      ["truncated", bytes.subarray(0, bytes.length - 8), /length does not match/],
      ["magic", withByte(bytes, 0, 0), /bad magic/],
      ["version", withByte(bytes, 4, 9), /version/],
      ["parameter set", withByte(bytes, 5, 1), /another parameter set/],
      ["member outside its set", withByte(bytes, 7, 3), /not in its own decrypting set/],
      ["unsorted set", withByte(withByte(bytes, 56, 2), 57, 1), /ascending/],
      ["primes", withByte(bytes, 9, 9), /no level/],
      ["residue", withU64(bytes, 64, 0xffffffffffffffffn), /not below its prime/],
    ];
    for (const [name, mutated, message] of mutations) {
      expect(() => parsePartialDecryption(ctx, mutated), name).to.throw(MalformedShareError, message);
    }
    // A partial for another envelope does not combine with this one.
    const other = await fedAvgEncrypted(ctx, [{ envelope: contribution, sampleCount: 1 }], {
      publicBundleHash: bundle.hash,
    });
    const foreign = await partialDecryptEnvelope(ctx, other, { ...request, share: twoOfThree[1] });
    await rejectionOf(
      combinePartialDecryptions(ctx, output, [partial, foreign]),
      MalformedShareError,
      /another envelope/,
    );
    expect(await envelopeCommitment(other)).to.not.equal(partial.envelopeCommitment);
  });

  it("range-checks released values: garbage from a forged partial is not released", async () => {
    const [p1, p2] = await partialsOf(twoOfThree, [1, 2]);
    const forged: PartialDecryption = {
      ...p2,
      chunks: p2.chunks.map((chunk) => chunk.map((r, i) => (i === 0 ? r + 1n : r))),
    };
    const honest = await combinePartialDecryptions(fixture.ctx, output, [p1, p2], { maxAbs: 2 });
    expect(honest.values.length).to.equal(reference.length);
    await rejectionOf(
      combinePartialDecryptions(fixture.ctx, output, [p1, forged], { maxAbs: 2 }),
      ReleaseRangeError,
      /outside the declared range/,
    );
  });

  it("deals shares that round-trip, commit distinctly, parse strictly, and wipe the dealer's key", async () => {
    const { ctx, keys, bundle } = fixture;
    const copy = Uint8Array.from(keys.secretKey);
    const shares = dealKeyShares(ctx, copy, { threshold: 2, members: 3, publicBundleHash: bundle.hash });
    expect(copy.every((byte) => byte === 0)).to.equal(true);
    const serialized = shares.map(serializeKeyShare);
    const commitments = await Promise.all(serialized.map(keyShareCommitment));
    expect(new Set(commitments).size).to.equal(3);
    serialized.forEach((bytes, i) => expect(parseKeyShare(ctx, bytes)).to.deep.equal(shares[i]));
    const bad: [string, Uint8Array, RegExp][] = [
      ["short", serialized[0].subarray(0, 10), /too short/],
      ["magic", withByte(serialized[0], 1, 0), /bad magic/],
      ["member 0", withByte(serialized[0], 8, 0), /member number out of range/],
      ["t > n", withByte(serialized[0], 6, 4), /impossible committee shape/],
      ["reserved", withByte(serialized[0], 10, 1), /reserved/],
      ["set", withByte(serialized[0], 5, 1), /another parameter set/],
      ["not a key", withByte(serialized[0], 44 + 16, 0), /not a key-level SEAL secret key/],
    ];
    for (const [name, bytes, message] of bad)
      expect(() => parseKeyShare(ctx, bytes), name).to.throw(MalformedShareError, message);
    expect(() =>
      dealKeyShares(ctx, new Uint8Array(100), { threshold: 2, members: 3, publicBundleHash: bundle.hash }),
    ).to.throw(/not an uncompressed SEAL 4.1 object/);
  });

  it("keeps the WASM heap flat over repeated partial decryptions and combinations", async function () {
    const round = async () => {
      const partials = await partialsOf(threeOfFive, [2, 3, 5]);
      await combinePartialDecryptions(fixture.ctx, output, partials);
    };
    for (let i = 0; i < 3; i++) await round();
    const before = await sealHeapBytes();
    for (let i = 0; i < 25; i++) await round();
    const after = await sealHeapBytes();
    this.test!.title += ` [75 partials, 25 combinations, heap ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MB]`;
    expect(after - before).to.be.at.most(1 << 20);
  });
});

/** Two-sample Kolmogorov–Smirnov statistic. */
function ksTwoSample(a: readonly number[], b: readonly number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

/** One-sample KS statistic against U(0, 1). */
function ksUniform(samples: readonly number[]): number {
  const x = [...samples].sort((p, q) => p - q);
  return x.reduce((d, v, i) => Math.max(d, Math.abs(v - i / x.length), Math.abs(v - (i + 1) / x.length)), 0);
}
