/**
 * Flooding by the book on a round's outputs (MNIST shape d = 785, c = 10, n clients, the round's parameter set):
 * the decryption error of each output measured from two runs under independent keys (threshold/error-measurement)
 * against its bound (threshold/noise-bound), and φ / the global model before and after a 2-of-3 committee's
 * flooding, for a few declared model norm bounds C.
 *
 *   npm run bench:flooding -- [--json] [--clients 10] [--bounds 0.5,2,16]
 */
import { Command } from "commander";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, serializePublicBundle } from "@ciphershare/protocol/ckks/keys";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { loadPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { fedAvgPlain } from "@ciphershare/coprocessor/fedavg/weights";
import { accuracy } from "@ciphershare/coprocessor/simulation/evaluate";
import { zeroModel } from "@ciphershare/protocol/records/model";
import {
  computeAggregate,
  computeScores,
  roundCoefficientMap,
  roundKernel,
  roundKeyOptions,
} from "@ciphershare/coprocessor/roles/computation";
import { modelTensors, ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import { applyCoefficientMap } from "@ciphershare/coprocessor/shapley/coefficients";
import { readScores } from "@ciphershare/coprocessor/shapley/encrypted/layout";
import { gramVector } from "@ciphershare/coprocessor/shapley/gram";
import { parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { aggregateRelease, scoresRelease, type OutputRelease } from "@ciphershare/coprocessor/threshold/release-bounds";
import { combinePartialDecryptions } from "@ciphershare/coprocessor/threshold/combine";
import { dealKeyShares, soleKeyShare } from "@ciphershare/coprocessor/threshold/key-share";
import { decryptToCoefficients, twoRunErrorL2 } from "@ciphershare/coprocessor/threshold/error-measurement";
import { partialDecryptEnvelope } from "@ciphershare/coprocessor/threshold/partial-decryption";
import { releasedNoiseStd, smudgingSigma } from "@ciphershare/coprocessor/threshold/flooding";
import { clients as mnistClients, validationDataset } from "./mnist-clients";

const log = (line: string) => process.stdout.write(`${line}\n`);
const round = (value: number, digits = 3) => Number(value.toPrecision(digits));

interface Run {
  aggregate: Uint8Array;
  scores: Uint8Array;
  secretKey: Uint8Array;
  hash: `0x${string}`;
}

async function main(options: { json: boolean; clients: number; bounds: string }) {
  const ctx = await CkksContext.create(ROUND_PARAMETER_SET_ID);
  const validation = validationDataset();
  const base = zeroModel(validation.dimension, validation.classes);
  const { models, sampleCounts } = mnistClients(options.clients);
  const norms = models.map((w) => Math.sqrt(w.data.reduce((sum, v) => sum + v * v, 0)));
  log(`${options.clients} MNIST clients, ${ROUND_PARAMETER_SET_ID}; model norms ≤ ${Math.max(...norms).toFixed(3)}`);

  // Two independent runs of the round's computation on the same models.
  const runs: Run[] = [];
  for (let run = 0; run < 2; run++) {
    const keys = generateKeys(ctx, roundKeyOptions(ctx.slotCount, validation.dimension, validation.classes));
    const bundleBytes = serializePublicBundle(keys.bundle);
    const bundle = await loadPublicBundle(ctx, bundleBytes);
    const hash = bundle.hash;
    const inputs = [];
    for (let i = 0; i < models.length; i++) {
      inputs.push({
        envelope: await encryptModelUpdate(ctx, bundle, {
          values: models[i].data,
          tensors: modelTensors(validation.dimension, validation.classes),
        }),
        sampleCount: sampleCounts[i],
      });
    }
    bundle.dispose();
    const roundInput = { ctx, bundleBytes, bundleHash: hash, inputs, validation, base, workers: 2 };
    const started = performance.now();
    runs.push({
      aggregate: await computeAggregate(roundInput),
      scores: await computeScores(roundInput),
      secretKey: keys.secretKey,
      hash,
    });
    log(`run ${run + 1}: outputs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const chunk = async (envelope: Uint8Array) => Uint8Array.from((await parseEnvelope(envelope)).chunks[0]);
  const measure = async (output: "aggregate" | "scores") => {
    const [a, b] = await Promise.all(
      runs.map(async (r) => decryptToCoefficients(ctx, await chunk(r[output]), soleKeyShare(ctx, r.secretKey, r.hash))),
    );
    return twoRunErrorL2(a, b);
  };
  const measured = { aggregate: await measure("aggregate"), scores: await measure("scores") };

  const kernel = roundKernel(validation, base);
  const map = roundCoefficientMap(sampleCounts, kernel);
  const phiPlain = applyCoefficientMap(map, gramVector(kernel, models));
  const phiMax = Math.max(...Array.from(phiPlain, Math.abs));
  const reference = fedAvgPlain(
    models.map((m) => Float64Array.from(m.data)),
    sampleCounts,
  );
  const [first] = runs;
  const shares = dealKeyShares(ctx, Uint8Array.from(first.secretKey), {
    threshold: 2,
    members: 3,
    publicBundleHash: first.hash,
  });
  const release = async (envelope: Uint8Array, spec: OutputRelease, flood: boolean) => {
    const set = [1, 2];
    const sigma = flood ? smudgingSigma(spec.errorBound.l2) : 0;
    const partials = await Promise.all(
      set.map((m) => partialDecryptEnvelope(ctx, envelope, { share: shares[m - 1], decryptingSet: set, sigma })),
    );
    return { sigma, values: (await combinePartialDecryptions(ctx, envelope, partials)).values };
  };
  const model = (weights: Float64Array) => ({ dimension: base.dimension, classes: base.classes, weights });
  const phiError = (values: Float64Array) =>
    Math.max(...Array.from(readScores(values, map), (v, k) => Math.abs(v - phiPlain[k]))) / phiMax;
  const maxError = (values: Float64Array) => values.reduce((max, v, i) => Math.max(max, Math.abs(v - reference[i])), 0);

  const exactScores = await release(first.scores, scoresRelease(ctx, kernel, map, 1), false);
  const exactAggregate = await release(first.aggregate, aggregateRelease(ctx, sampleCounts, 1), false);
  const rows = [];
  for (const bound of options.bounds.split(",").map(Number)) {
    const scoreSpec = scoresRelease(ctx, kernel, map, bound);
    const aggregateSpec = aggregateRelease(ctx, sampleCounts, bound);
    const scores = await release(first.scores, scoreSpec, true);
    const aggregate = await release(first.aggregate, aggregateSpec, true);
    const row = {
      modelNormBound: bound,
      aggregate: {
        measuredErrorLog2: round(Math.log2(measured.aggregate)),
        modelErrorLog2: round(Math.log2(aggregateSpec.errorBound.expectedL2)),
        boundLog2: round(Math.log2(aggregateSpec.errorBound.l2)),
        smudgingSigmaLog2: round(Math.log2(aggregate.sigma)),
        floodingStdPerValue: round(
          releasedNoiseStd(aggregate.sigma, 2, ctx.parameterSet.polyModulusDegree, aggregateSpec.errorBound.scale),
        ),
        maxAbsErrorBefore: round(maxError(exactAggregate.values)),
        maxAbsErrorAfter: round(maxError(aggregate.values)),
        accuracyPlaintext: accuracy(model(reference), validation),
        accuracyReleased: accuracy(model(aggregate.values), validation),
      },
      scores: {
        measuredErrorLog2: round(Math.log2(measured.scores)),
        modelErrorLog2: round(Math.log2(scoreSpec.errorBound.expectedL2)),
        boundLog2: round(Math.log2(scoreSpec.errorBound.l2)),
        smudgingSigmaLog2: round(Math.log2(scores.sigma)),
        floodingStdRelative: round(
          (releasedNoiseStd(scores.sigma, 2, ctx.parameterSet.polyModulusDegree, scoreSpec.errorBound.scale) *
            map.outputScale) /
            phiMax,
        ),
        phiRelativeErrorBefore: round(phiError(exactScores.values)),
        phiRelativeErrorAfter: round(phiError(scores.values)),
      },
    };
    log(JSON.stringify(row));
    rows.push(row);
  }
  for (const share of shares) share.key.data.fill(0n);
  ctx.dispose();
  const result = { parameterSet: ROUND_PARAMETER_SET_ID, clients: options.clients, phiMaxAbs: round(phiMax), rows };
  if (options.json) log(JSON.stringify(result));
}

const program = new Command()
  .option("--json", "print the results as one JSON object on the last line", false)
  .option("--clients <n>", "MNIST clients", (v) => parseInt(v, 10), 10)
  .option("--bounds <list>", "declared model norm bounds C to flood for", "0.5,2,16")
  .parse(process.argv);

main(program.opts()).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
