/**
 * CKKS coprocessor benchmark: keccak throughput, encryption, homomorphic FedAvg of many clients'
 * updates, decryption and precision, with the plaintext path measured side by side in the same run
 * (wall-clock numbers on a shared machine are noisy; the ratios are what to compare).
 *
 *   npm run bench:fhe -- [--json] [--clients 100] [--params 100000] [--distinct 10]
 *
 * `--distinct` clients are encrypted (their encryption is timed); the rest reuse their envelopes, which
 * costs FedAvg exactly the same (it is data-oblivious). With --json the last stdout line is one JSON
 * object; `fedavgParamsPerSecond` counts client-parameters aggregated per second (clients × params / s).
 *
 * Then the threshold release of a real round's outputs (`--round-clients`, default 20 MNIST clients, the
 * round's parameter set): the FedAvg aggregate and Enc(φ) computed as the coprocessor does, a 2-of-3 committee
 * dealt from the epoch key, `partialDecryptMs` / `combineMs` / `shareBytes` per output ciphertext, and the
 * precision before and after flooding by the book (`threshold` holds the details).
 */
import { Command } from "commander";
import { keccak256 as ethersKeccak256 } from "ethers";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { decryptEnvelopeValues, encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import {
  generateKeys,
  loadPublicBundle,
  loadSecretKey,
  publicBundleParts,
  serializePublicBundle,
} from "@ciphershare/protocol/ckks/keys";
import { parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { sealHeapBytes } from "@ciphershare/protocol/ckks/seal";
import { fedAvgEncrypted } from "@ciphershare/coprocessor/fedavg/homomorphic";
import { fedAvgPlain, fedAvgWeights } from "@ciphershare/coprocessor/fedavg/weights";
import { modelUpdateFromArray } from "@ciphershare/protocol/formats/model-update";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import { initKeccak, keccak256Sync } from "@ciphershare/protocol/hashing/keccak";
import { zeroModel } from "@ciphershare/protocol/records/model";
import { modelTensors, ROUND_MODEL_NORM_BOUND, ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import {
  computeAggregate,
  computeScores,
  roundCoefficientMap,
  roundKernel,
  roundKeyOptions,
} from "@ciphershare/coprocessor/roles/computation";
import { applyCoefficientMap } from "@ciphershare/coprocessor/shapley/coefficients";
import { readScores } from "@ciphershare/coprocessor/shapley/encrypted/layout";
import { gramVector } from "@ciphershare/coprocessor/shapley/gram";
import { accuracy } from "@ciphershare/coprocessor/simulation/evaluate";
import { combinePartialDecryptions } from "@ciphershare/coprocessor/threshold/combine";
import { releasedNoiseStd, smudgingSigma } from "@ciphershare/coprocessor/threshold/flooding";
import { dealKeyShares, serializeKeyShare, soleKeyShare } from "@ciphershare/coprocessor/threshold/key-share";
import { fedAvgNoiseBound, noiseParameters } from "@ciphershare/coprocessor/threshold/noise-bound";
import {
  partialDecryptEnvelope,
  serializePartialDecryption,
} from "@ciphershare/coprocessor/threshold/partial-decryption";
import { aggregateRelease, scoresRelease, type OutputRelease } from "@ciphershare/coprocessor/threshold/release-bounds";
import { benchBrowserEncrypt } from "./browser-encrypt";
import { clients as mnistClients, validationDataset } from "./mnist-clients";

interface Options {
  json: boolean;
  clients: number;
  params: number;
  distinct: number;
  roundClients: number;
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const round = (value: number, digits = 3) => Number(value.toPrecision(digits));

function time<T>(run: () => T): [T, number] {
  const start = performance.now();
  const result = run();
  return [result, performance.now() - start];
}

async function timeAsync<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await run();
  return [result, performance.now() - start];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function randomUpdate(length: number, seed: number): Float64Array {
  let state = seed >>> 0 || 1;
  return Float64Array.from({ length }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 2 ** 32 - 0.5) * 0.2;
  });
}

async function benchKeccak() {
  await initKeccak();
  const big = new Uint8Array(16 * 2 ** 20).map((_, i) => i & 0xff);
  keccak256Sync(big.subarray(0, 2 ** 20));
  // Best of 15: throughput the hash can sustain; the median shows how much the shared machine interferes.
  const samples = Array.from({ length: 15 }, () => 16 / (time(() => keccak256Sync(big))[1] / 1000));
  const keccakMBps = Math.max(...samples);
  const keccakMedianMBps = median(samples);
  const small = big.subarray(0, 4 * 2 ** 20);
  const [, ethersMs] = time(() => ethersKeccak256(small));
  const ethersKeccakMBps = 4 / (ethersMs / 1000);
  log(
    `keccak256: hash-wasm ${keccakMBps.toFixed(0)} MB/s (median ${keccakMedianMBps.toFixed(0)}), ` +
      `ethers ${ethersKeccakMBps.toFixed(1)} MB/s`,
  );
  return {
    keccakMBps: round(keccakMBps),
    keccakMedianMBps: round(keccakMedianMBps),
    ethersKeccakMBps: round(ethersKeccakMBps),
  };
}

async function benchDeep() {
  const ctx = await CkksContext.create("deep-v1");
  const keys = generateKeys(ctx);
  const bundle = await loadPublicBundle(ctx, keys.bundle);
  const values = randomUpdate(ctx.slotCount, 3);
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 12; i++) {
    const [ciphertext, ms] = time(() => ctx.encrypt(values, bundle.encryptor));
    samples.push(ms);
    bytes = ctx.saveCiphertext(ciphertext).length;
    ciphertext.delete();
  }
  // What a contributor downloads of a deep-v1 key set: the encryption bundle (public key), not the evaluation keys.
  const contributorKeyBytes = (await publicBundleParts(keys.bundle)).encryption.length;
  bundle.dispose();
  ctx.dispose();
  log(
    `deep-v1: encrypt ${median(samples).toFixed(1)} ms per ciphertext, ${bytes} bytes; contributor key ${contributorKeyBytes} bytes`,
  );
  return {
    encryptMsPerCiphertext: round(median(samples)),
    ciphertextBytes: bytes,
    slotsPerCiphertext: 8192,
    contributorKeyBytes,
  };
}

/**
 * The round's parameter set with the round's Galois keys: what a contributor downloads (the encryption bundle) against
 * the whole bundle, and encryption of a d×c MNIST update in headless Chromium under that encryption bundle.
 */
async function benchContributorKey() {
  const ctx = await CkksContext.create(ROUND_PARAMETER_SET_ID);
  const validation = validationDataset();
  const keys = generateKeys(ctx, roundKeyOptions(ctx.slotCount, validation.dimension, validation.classes));
  const parts = await publicBundleParts(keys.bundle);
  // The "submitted" key set (`custodian keygen --projections submitted`): 13 power-of-two Galois keys and the conjugation instead of 69.
  const small = generateKeys(
    ctx,
    roundKeyOptions(ctx.slotCount, validation.dimension, validation.classes, "submitted"),
  );
  const smallParts = await publicBundleParts(small.bundle);
  ctx.dispose();
  const wholeBundleBytes = parts.encryption.length + parts.evaluation.length;
  log(
    `${ROUND_PARAMETER_SET_ID} round keys: contributors download ${parts.encryption.length} bytes of a ${wholeBundleBytes}-byte bundle (manifest ${parts.manifest.length} bytes); evaluation bundle ${parts.evaluation.length} bytes (${keys.bundle.galoisSteps.length} Galois keys), ${smallParts.evaluation.length} with the "submitted" key set (${small.bundle.galoisSteps.length})`,
  );
  const update = randomUpdate(validation.dimension * validation.classes, 11);
  const browser = await benchBrowserEncrypt(parts.encryption, update, log);
  return {
    roundContributorKeyBytes: parts.encryption.length,
    roundBundleBytes: wholeBundleBytes,
    roundEvaluationBundleBytes: parts.evaluation.length,
    roundSubmittedEvaluationBundleBytes: smallParts.evaluation.length,
    browserEncryptMs: browser?.browserEncryptMs ?? null,
    browserEncryptFirstMs: browser?.browserEncryptFirstMs ?? null,
    browserEncryptValues: update.length,
  };
}

/** Milliseconds of `run`, median of `repeats`. */
async function medianMs(repeats: number, run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) samples.push((await timeAsync(run))[1]);
  return median(samples);
}

/**
 * A round's two outputs released by a 2-of-3 committee: costs per output ciphertext, sizes, and precision
 * before and after flooding (φ relative to max |φ|; the aggregate as the global model's accuracy).
 */
async function benchThreshold(clientCount: number) {
  log(`threshold release: ${clientCount} MNIST clients, ${ROUND_PARAMETER_SET_ID}, 2-of-3 committee`);
  const ctx = await CkksContext.create(ROUND_PARAMETER_SET_ID);
  const validation = validationDataset();
  const base = zeroModel(validation.dimension, validation.classes);
  const { models, sampleCounts } = mnistClients(clientCount);
  const [keys, keygenMs] = time(() =>
    generateKeys(ctx, roundKeyOptions(ctx.slotCount, validation.dimension, validation.classes)),
  );
  const bundleBytes = serializePublicBundle(keys.bundle);
  const bundle = await loadPublicBundle(ctx, bundleBytes);
  const bundleHash = bundle.hash; // the manifest's, what envelopes name
  const inputs = [];
  for (let i = 0; i < models.length; i++) {
    const envelope = await encryptModelUpdate(ctx, bundle, {
      values: models[i].data,
      tensors: modelTensors(validation.dimension, validation.classes),
    });
    inputs.push({ envelope, sampleCount: sampleCounts[i] });
  }
  bundle.dispose();
  const roundInput = { ctx, bundleBytes, bundleHash, inputs, validation, base, workers: 2 };
  const [aggregate, aggregateMs] = await timeAsync(() => computeAggregate(roundInput));
  const [scores, scoresMs] = await timeAsync(() => computeScores(roundInput));
  log(
    `  keygen ${(keygenMs / 1000).toFixed(1)} s, FedAvg ${(aggregateMs / 1000).toFixed(1)} s, Enc(φ) ${(scoresMs / 1000).toFixed(1)} s`,
  );

  const [shares, dealMs] = time(() =>
    dealKeyShares(ctx, Uint8Array.from(keys.secretKey), { threshold: 2, members: 3, publicBundleHash: bundleHash }),
  );
  const kernel = roundKernel(validation, base);
  const map = roundCoefficientMap(sampleCounts, kernel);
  const set = [1, 2];
  const release = async (envelope: Uint8Array, spec: OutputRelease, sigmaScale: number) => {
    const sigma = sigmaScale * smudgingSigma(spec.errorBound.l2);
    const partials = await Promise.all(
      set.map((member) =>
        partialDecryptEnvelope(ctx, envelope, { share: shares[member - 1], decryptingSet: set, sigma }),
      ),
    );
    return { sigma, partials, values: (await combinePartialDecryptions(ctx, envelope, partials)).values };
  };
  const outputs = {
    aggregate: { envelope: aggregate, spec: aggregateRelease(ctx, sampleCounts, ROUND_MODEL_NORM_BOUND) },
    scores: { envelope: scores, spec: scoresRelease(ctx, kernel, map, ROUND_MODEL_NORM_BOUND) },
  };
  const details: Record<string, Record<string, number>> = {};
  for (const [name, { envelope, spec }] of Object.entries(outputs)) {
    const flooded = await release(envelope, spec, 1);
    const exact = await release(envelope, spec, 0);
    const partialMs = await medianMs(5, () =>
      partialDecryptEnvelope(ctx, envelope, { share: shares[0], decryptingSet: set, sigma: flooded.sigma }),
    );
    const combineMs = await medianMs(5, () => combinePartialDecryptions(ctx, envelope, flooded.partials));
    const scale = (await parseEnvelope(envelope)).header.scale;
    details[name] = {
      partialDecryptMs: round(partialMs),
      combineMs: round(combineMs),
      shareBytes: serializePartialDecryption(flooded.partials[0]).length,
      errorBoundLog2: round(Math.log2(spec.errorBound.l2)),
      smudgingSigmaLog2: round(Math.log2(flooded.sigma)),
      floodingStdPerValue: round(
        releasedNoiseStd(flooded.sigma, set.length, ctx.parameterSet.polyModulusDegree, scale),
      ),
    };
    if (name === "aggregate") {
      const reference = fedAvgPlain(
        models.map((m) => Float64Array.from(m.data)),
        sampleCounts,
      );
      const error = (values: Float64Array) =>
        values.reduce((max, v, i) => Math.max(max, Math.abs(v - reference[i])), 0);
      const model = (weights: Float64Array) => ({ dimension: base.dimension, classes: base.classes, weights });
      Object.assign(details[name], {
        maxAbsErrorBeforeFlooding: round(error(exact.values)),
        maxAbsErrorAfterFlooding: round(error(flooded.values)),
        accuracyPlaintext: accuracy(model(reference), validation),
        accuracyReleased: accuracy(model(flooded.values), validation),
      });
    } else {
      // φ by the same Gram method in float64 (the plaintext reference the encrypted path must match).
      const plain = applyCoefficientMap(map, gramVector(kernel, models));
      const plainMax = Math.max(...Array.from(plain, Math.abs));
      const relative = (values: Float64Array) =>
        Math.max(...Array.from(readScores(values, map), (v, k) => Math.abs(v - plain[k]))) / plainMax;
      Object.assign(details[name], {
        phiMaxAbs: round(plainMax),
        phiRelativeErrorBeforeFlooding: round(relative(exact.values)),
        phiRelativeErrorAfterFlooding: round(relative(flooded.values)),
      });
    }
    log(`  ${name}: ${JSON.stringify(details[name])}`);
  }
  const keyShareBytes = serializeKeyShare(shares[0]).length;
  for (const share of shares) share.key.data.fill(0n);
  keys.secretKey.fill(0);
  ctx.dispose();
  const perOutput = (field: string) => {
    const values = Object.values(details).map((d) => d[field]);
    return round(values.reduce((a, b) => a + b, 0) / values.length);
  };
  return {
    parameterSet: ROUND_PARAMETER_SET_ID,
    clients: clientCount,
    committee: "2-of-3",
    partialDecryptMs: perOutput("partialDecryptMs"),
    combineMs: perOutput("combineMs"),
    // Both outputs are one ciphertext on the release level's two primes: the same size.
    shareBytes: Math.max(...Object.values(details).map((d) => d.shareBytes)),
    keyShareBytes,
    dealMs: round(dealMs),
    keygenSeconds: round(keygenMs / 1000),
    aggregateSeconds: round(aggregateMs / 1000),
    scoresSeconds: round(scoresMs / 1000),
    outputs: details,
  };
}

async function main(options: Options): Promise<void> {
  const { clients, params, distinct } = options;
  log(`CKKS benchmark: ${clients} clients × ${params} params (${distinct} distinct), fast-v1`);
  const keccak = await benchKeccak();

  const [ctx, contextMs] = await timeAsync(() => CkksContext.create("fast-v1"));
  const [keys, keygenMs] = time(() => generateKeys(ctx));
  const bundle = await loadPublicBundle(ctx, keys.bundle);
  const secret = loadSecretKey(ctx, keys.secretKey);
  log(`context ${contextMs.toFixed(0)} ms, keygen ${keygenMs.toFixed(0)} ms`);

  const updates = Array.from({ length: distinct }, (_, i) => randomUpdate(params, 1000 + i));
  const counts = Array.from({ length: clients }, (_, i) => 10 + ((i * 37) % 500));
  const chunksPerUpdate = Math.ceil(params / ctx.slotCount);

  // Encryption (the contributor's cost) and the plaintext counterpart: serializing the update.
  const envelopes: Uint8Array[] = [];
  const [, encryptMs] = await timeAsync(async () => {
    for (const update of updates) envelopes.push(await encryptModelUpdate(ctx, bundle, modelUpdateFromArray(update)));
  });
  const encryptMsPerCiphertext = encryptMs / (distinct * chunksPerUpdate);
  updates.map((update) => serializeNpy(update)); // JIT warm-up, so the plaintext path is not understated
  const [plainFiles, plainEncodeMs] = time(() => updates.map((update) => serializeNpy(update)));
  const plaintextEncodeMsPerChunk = plainEncodeMs / (distinct * chunksPerUpdate);
  log(
    `encrypt: ${encryptMsPerCiphertext.toFixed(2)} ms per ciphertext (${ctx.slotCount} values); ` +
      `plaintext .npy: ${plaintextEncodeMsPerChunk.toFixed(3)} ms per ${ctx.slotCount} values`,
  );
  const ciphertextBytes = (await parseEnvelope(envelopes[0])).header.chunkByteLength;

  // Homomorphic FedAvg over all clients (envelopes reused cyclically) vs the float64 reference.
  const heapBefore = await sealHeapBytes();
  // Validation (header checks + integrity keccak of every envelope) is timed apart from the
  // homomorphic work; fedavgParamsPerSecond covers both, from envelope bytes to output envelope.
  const [parsed, validateMs] = await timeAsync(() =>
    Promise.all(counts.map((_, i) => parseEnvelope(envelopes[i % distinct], { publicBundleHash: bundle.hash }))),
  );
  const clientUpdates = counts.map((sampleCount, i) => ({ envelope: parsed[i], sampleCount }));
  let lastProgress = 0;
  const [output, computeMs] = await timeAsync(() =>
    fedAvgEncrypted(ctx, clientUpdates, {
      publicBundleHash: bundle.hash,
      onChunk: (done, total) => {
        if (done === total || performance.now() - lastProgress > 5000) {
          lastProgress = performance.now();
          log(`  fedavg chunk ${done}/${total}`);
        }
      },
    }),
  );
  const fedavgMs = validateMs + computeMs;
  const heapAfter = await sealHeapBytes();
  const fedavgParamsPerSecond = (clients * params) / (fedavgMs / 1000);
  const plainInputs = counts.map((_, i) => updates[i % distinct]);
  fedAvgPlain(plainInputs, counts); // JIT warm-up
  const [reference, plainFedavgMs] = time(() => fedAvgPlain(plainInputs, counts));
  const plaintextFedavgParamsPerSecond = (clients * params) / (plainFedavgMs / 1000);
  log(
    `fedavg: ${(fedavgMs / 1000).toFixed(2)} s encrypted (validate ${(validateMs / 1000).toFixed(2)} s + ` +
      `compute ${(computeMs / 1000).toFixed(2)} s) (${(fedavgParamsPerSecond / 1e6).toFixed(2)} M client-params/s), ` +
      `${plainFedavgMs.toFixed(1)} ms plaintext (${(plaintextFedavgParamsPerSecond / 1e6).toFixed(0)} M/s)`,
  );

  // Decryption and precision (custodian side), without and with flooding by the book (the 1-of-1 path): at
  // fast-v1's scale 2^40 the flooding the FedAvg bound prescribes swamps the values, which is why rounds use deep-v2.
  const parsedOutput = await parseEnvelope(output);
  const [decrypted, decryptMs] = time(() => decryptEnvelopeValues(ctx, parsedOutput, secret.decryptor));
  const decryptMsPerCiphertext = decryptMs / parsedOutput.header.chunkCount;
  let maxAbsError = 0;
  for (let i = 0; i < params; i++) maxAbsError = Math.max(maxAbsError, Math.abs(decrypted[i] - reference[i]));
  const smudging = smudgingSigma(fedAvgNoiseBound(noiseParameters(ctx), fedAvgWeights(counts)).l2);
  const sigma = releasedNoiseStd(smudging, 1, ctx.parameterSet.polyModulusDegree, parsedOutput.header.scale);
  const sole = soleKeyShare(ctx, keys.secretKey, bundle.hash);
  const partial = await partialDecryptEnvelope(ctx, output, { share: sole, decryptingSet: [1], sigma: smudging });
  const flooded = (await combinePartialDecryptions(ctx, output, [partial])).values;
  sole.key.data.fill(0n);
  let floodedMaxAbsError = 0;
  for (let i = 0; i < params; i++) {
    floodedMaxAbsError = Math.max(floodedMaxAbsError, Math.abs(flooded[i] - reference[i]));
  }
  log(
    `decrypt ${decryptMsPerCiphertext.toFixed(2)} ms per ciphertext; max abs error ${maxAbsError.toExponential(2)}, ` +
      `flooded by the book (σ=${sigma.toExponential(2)} per value): ${floodedMaxAbsError.toExponential(2)}`,
  );

  const ciphertextBytesPerUpdate = envelopes[0].length;
  const plaintextBytesPerUpdate = plainFiles[0].length;
  const deep = await benchDeep();
  const contributor = await benchContributorKey();
  const threshold = await benchThreshold(options.roundClients);
  const result = {
    parameterSet: "fast-v1",
    clients,
    params,
    keccakMBps: keccak.keccakMBps,
    keccakMedianMBps: keccak.keccakMedianMBps,
    ethersKeccakMBps: keccak.ethersKeccakMBps,
    encryptMsPerCiphertext: round(encryptMsPerCiphertext),
    plaintextEncodeMsPerChunk: round(plaintextEncodeMsPerChunk),
    decryptMsPerCiphertext: round(decryptMsPerCiphertext),
    fedavgSeconds: round(fedavgMs / 1000),
    fedavgValidateSeconds: round(validateMs / 1000),
    fedavgComputeSeconds: round(computeMs / 1000),
    plaintextFedavgSeconds: round(plainFedavgMs / 1000),
    fedavgParamsPerSecond: round(fedavgParamsPerSecond),
    plaintextFedavgParamsPerSecond: round(plaintextFedavgParamsPerSecond),
    fedavgSlowdown: round(plaintextFedavgParamsPerSecond / fedavgParamsPerSecond),
    ciphertextBytes,
    ciphertextBytesPerUpdate,
    plaintextBytesPerUpdate,
    sizeExpansion: round(ciphertextBytesPerUpdate / plaintextBytesPerUpdate),
    fedavgMaxAbsError: round(maxAbsError),
    floodingSigma: sigma,
    floodedMaxAbsError: round(floodedMaxAbsError),
    wasmHeapBytesBefore: heapBefore,
    wasmHeapBytesAfter: heapAfter,
    contextMs: round(contextMs),
    keygenMs: round(keygenMs),
    deep,
    contributorKeyBytes: deep.contributorKeyBytes,
    ...contributor,
    partialDecryptMs: threshold.partialDecryptMs,
    combineMs: threshold.combineMs,
    shareBytes: threshold.shareBytes,
    threshold,
  };
  bundle.dispose();
  secret.dispose();
  ctx.dispose();
  if (options.json) log(JSON.stringify(result));
  else log(`\n${JSON.stringify(result, null, 2)}`);
}

const program = new Command()
  .option("--json", "print the results as one JSON object on the last line", false)
  .option("--clients <n>", "clients to aggregate", (v) => parseInt(v, 10), 100)
  .option("--params <n>", "parameters per update", (v) => parseInt(v, 10), 100_000)
  .option("--distinct <n>", "distinct encrypted updates (reused cyclically)", (v) => parseInt(v, 10), 10)
  .option("--round-clients <n>", "MNIST clients of the round whose outputs are released", (v) => parseInt(v, 10), 20)
  .parse(process.argv);

const options = program.opts<Options>();
options.distinct = Math.max(1, Math.min(options.distinct, options.clients));
main(options).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
