/**
 * The two Galois key profiles of the encrypted valuation side by side, on MNIST-shaped data (d = 785, c = 10, deep-v2),
 * interleaved in one process so that the machine's load affects both alike:
 * - keygen seconds (`generateShapleyKeys`), Galois key count, whole and evaluation bundle bytes;
 * - worker setup seconds: what a worker does at `init` (load the bundle's keys; with "computed" also encode the
 *   projection's diagonals, with "submitted" not: every client submitted);
 * - a worker's first and second fallback projection z = (R⊗I)·w per profile (with "submitted" its rotations are
 *   composed from powers of two, and the first one also encodes the diagonals its setup skipped).
 * `npx tsx scripts/bench/shapley-keys.ts [--reps 2] [--json]`: the last stdout line is the JSON rows with `--json`.
 */
import { Command } from "commander";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { loadPublicBundle, publicBundleParts, serializePublicBundle } from "@ciphershare/protocol/ckks/keys";
import { matrix } from "@ciphershare/protocol/linalg/matrix";
import { encryptModel, generateShapleyKeys } from "@ciphershare/coprocessor/shapley/encrypted/client";
import {
  PROJECTION_KEY_PROFILES,
  type ProjectionKeyProfile,
} from "@ciphershare/coprocessor/shapley/encrypted/key-profile";
import { matvecPlan } from "@ciphershare/coprocessor/shapley/encrypted/layout";
import { projectionKeySwitches, rotationKeySwitches } from "@ciphershare/coprocessor/shapley/encrypted/rotations";
import { ShapleyRuntime } from "@ciphershare/coprocessor/shapley/encrypted/runtime";
import { validationKernel } from "@ciphershare/coprocessor/shapley/gram";
import { exactCoefficientMap } from "@ciphershare/coprocessor/shapley/coefficients";
import { SHAPLEY_PARAMETER_SET } from "@ciphershare/coprocessor/shapley/valuation";
import { C, clients, D, validationSet } from "./mnist-clients";

const flags = new Command()
  .name("npx tsx scripts/bench/shapley-keys.ts")
  .option("--reps <n>", "interleaved repetitions per profile", "2")
  .option("--json", "the last stdout line is the JSON array of rows")
  .parse(process.argv)
  .opts<{ reps: string; json?: boolean }>();
const reps = Number(flags.reps);
if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be an integer ≥ 1 (got ${flags.reps})`);
const log = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (from: number) => Math.round((performance.now() - from) / 10) / 100;

interface Row {
  profile: ProjectionKeyProfile;
  rep: number;
  galoisKeys: number;
  keygenSeconds: number;
  bundleBytes: number;
  evaluationBundleBytes: number;
  workerSetupSeconds: number;
  /** Key switches of one fallback projection's rotations (baby rotations + giant rotations). */
  projectionRotationKeySwitches: number;
  /** A worker's first fallback projection (with "submitted", including the diagonals' encoding) and a second one. */
  firstProjectionSeconds: number;
  projectionSeconds: number;
}

async function main() {
  const { x, y } = validationSet();
  const kernel = validationKernel(x, y, matrix(D, C));
  const plan = matvecPlan(kernel.r, C, 8192);
  const crowd = clients(2);
  const model = crowd.models[0];
  // A map makes `init` behave as a valuation's worker (it encodes the diagonals at setup unless told not to).
  const map = exactCoefficientMap(crowd.sampleCounts, kernel);
  const ctx = await CkksContext.create(SHAPLEY_PARAMETER_SET);
  const rows: Row[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const profile of rep % 2 === 0 ? PROJECTION_KEY_PROFILES : [...PROJECTION_KEY_PROFILES].reverse()) {
        let started = performance.now();
        const keys = generateShapleyKeys(ctx, kernel.r, C, profile);
        const keygenSeconds = seconds(started);
        const bytes = serializePublicBundle(keys.bundle);
        const parts = await publicBundleParts(keys.bundle);
        const loaded = await loadPublicBundle(ctx, keys.bundle);
        const encrypted = encryptModel(ctx, model, loaded.encryptor);
        loaded.dispose();
        const runtime = new ShapleyRuntime();
        try {
          started = performance.now();
          await runtime.handle({
            type: "init",
            parameterSetId: SHAPLEY_PARAMETER_SET,
            bundle: bytes,
            setup: {
              r: kernel.r,
              xty: kernel.xty,
              map,
              normalizer: kernel.normalizer,
              yNormSquared: kernel.yNormSquared,
            },
            prepareProjection: profile === "computed",
          });
          await runtime.handle({ type: "models", models: [encrypted] });
          const workerSetupSeconds = seconds(started);
          // The first projection of a "submitted" worker also encodes the 785 diagonals (its setup skipped them); the
          // second one is the rotations and products alone.
          started = performance.now();
          await runtime.handle({ type: "project", index: 0 });
          const firstProjectionSeconds = seconds(started);
          started = performance.now();
          await runtime.handle({ type: "project", index: 0 });
          const projectionSeconds = seconds(started);
          const switches = projectionKeySwitches(plan, keys.bundle.galoisSteps);
          const babySwitches = plan.babySteps.reduce(
            (sum, step) => sum + rotationKeySwitches(step, keys.bundle.galoisSteps),
            0,
          );
          const row: Row = {
            profile,
            rep,
            galoisKeys: keys.bundle.galoisSteps.length,
            keygenSeconds,
            bundleBytes: bytes.length,
            evaluationBundleBytes: parts.evaluation.length,
            workerSetupSeconds,
            projectionRotationKeySwitches: babySwitches + switches.giantTotal,
            firstProjectionSeconds,
            projectionSeconds,
          };
          rows.push(row);
          log(JSON.stringify(row));
        } finally {
          runtime.dispose();
        }
      }
    }
  } finally {
    ctx.dispose();
  }
  if (flags.json) log(JSON.stringify(rows));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
