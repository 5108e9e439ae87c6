import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { loadPublicBundle, publicBundleParts, serializePublicBundle } from "@ciphershare/protocol/ckks/keys";
import { loadSecretKey, powerOfTwoSteps } from "@ciphershare/protocol/ckks/keys";
import type { Hex } from "@ciphershare/protocol/hex";
import { QueueUrlError } from "@ciphershare/coprocessor/queue/errors";
import { queueBackend, type QueueJobDone } from "@ciphershare/coprocessor/queue/backend";
import { redisConnection } from "@ciphershare/coprocessor/queue/jobs";
import { startRedisServer, type RunningRedis } from "@ciphershare/coprocessor/queue/redis-server";
import { startQueueWorker } from "@ciphershare/coprocessor/queue/worker";
import { exactCoefficientMap } from "@ciphershare/coprocessor/shapley/coefficients";
import {
  encryptModel,
  encryptProjection,
  generateShapleyKeys,
} from "@ciphershare/coprocessor/shapley/encrypted/client";
import { readScores } from "@ciphershare/coprocessor/shapley/encrypted/layout";
import { computeEncryptedScores } from "@ciphershare/coprocessor/shapley/encrypted/pipeline";
import { validationKernel } from "@ciphershare/coprocessor/shapley/gram";
import { referenceShapley } from "@ciphershare/coprocessor/shapley/utility";
import type { BlobStore } from "@ciphershare/coprocessor/storage/blob-store";
import { publishBundleParts } from "@ciphershare/coprocessor/storage/key-bundle";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import type { RunningChild } from "@ciphershare/coprocessor/process/child";
import { startCiphershareRole } from "@ciphershare/scripts/lib/cli-process";
import { randomProblem } from "../shapley/fixtures";

/** `ciphershare coprocessor worker` as its own process; resolves once it says it is ready. */
async function startWorker(
  home: string,
  queue: string,
  env: Record<string, string> = {},
): Promise<{ child: RunningChild; jobs: () => number }> {
  let done = 0;
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const child = startCiphershareRole(home, ["coprocessor", "worker", "--queue", queue, "--lock-ms", "3000"], {
    env,
    onLine: (line) => {
      if (/ ready on redis:/.test(line)) onReady();
      if (/^\[worker\] job .* done in /.test(line)) done++;
    },
  });
  await Promise.race([
    ready,
    child.exited.then(({ code, signal }) => {
      throw new Error(`the worker exited before it was ready (${code ?? signal})`);
    }),
  ]);
  return { child, jobs: () => done };
}

describe("queue: the encrypted valuation on BullMQ workers (Redis)", function () {
  this.timeout(600_000);
  const problem = randomProblem({ n: 5, d: 6, c: 3, rows: 25, seed: 21 });
  const kernel = validationKernel(problem.x, problem.y, problem.base);
  const map = exactCoefficientMap(problem.sampleCounts, kernel);
  let redis: RunningRedis;
  let home: string;
  let store: BlobStore;
  let ctx: CkksContext;
  let bundleHash: Hex;
  let bundleBytes: Uint8Array;
  let secretKey: Uint8Array;
  let models: Uint8Array[];
  let projections: Uint8Array[];
  let embedded: Uint8Array;
  const children: RunningChild[] = [];

  const viaQueue = async (onJob?: (job: QueueJobDone) => void) =>
    (
      await computeEncryptedScores({
        parameterSetId: "deep-v2",
        bundle: new Uint8Array(), // the workers load the keys by hash
        models,
        kernel,
        map,
        backend: await queueBackend({ queue: redis.url, store, bundleHash, onJob }),
      })
    ).scores;

  before(async () => {
    redis = await startRedisServer();
    home = mkdtempSync(join(tmpdir(), "ciphershare-queue-"));
    store = new LocalDirectoryBlobStore(join(home, "blobs"));
    ctx = await CkksContext.create("deep-v2");
    const keys = generateShapleyKeys(ctx, kernel.r, 3);
    bundleHash = await publishBundleParts(store, await publicBundleParts(keys.bundle));
    bundleBytes = serializePublicBundle(keys.bundle);
    secretKey = keys.secretKey;
    const loaded = await loadPublicBundle(ctx, keys.bundle);
    models = problem.models.map((w) => encryptModel(ctx, w, loaded.encryptor));
    projections = problem.models.map((w) => encryptProjection(ctx, kernel.r, w, loaded.encryptor));
    loaded.dispose();
    embedded = (
      await computeEncryptedScores({ parameterSetId: "deep-v2", bundle: bundleBytes, models, kernel, map, workers: 0 })
    ).scores;
  });

  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.stop()));
  });

  after(async () => {
    await redis?.stop();
    ctx?.dispose();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("one worker process gives the embedded computation's bytes, and φ", async () => {
    const one = await startWorker(home, redis.url);
    children.push(one.child);
    const scores = await viaQueue();
    expect(Buffer.from(scores).equals(Buffer.from(embedded))).to.equal(true);
    expect(one.jobs()).to.be.greaterThan(problem.models.length - 1);
    const secret = loadSecretKey(ctx, secretKey);
    const ciphertext = ctx.loadCiphertext(scores);
    const phi = Array.from(readScores(ctx.decrypt(ciphertext, secret.decryptor), map));
    ciphertext.delete();
    secret.dispose();
    const reference = referenceShapley(problem).phi;
    const largest = Math.max(...reference.map(Math.abs));
    phi.forEach((value, k) => expect(Math.abs(value - reference[k])).to.be.below(1e-6 * largest));
  });

  it("two worker processes share the jobs and give the same bytes", async () => {
    const workers = [await startWorker(home, redis.url), await startWorker(home, redis.url)];
    children.push(...workers.map((w) => w.child));
    const done: QueueJobDone[] = [];
    const scores = await viaQueue((job) => done.push(job));
    expect(Buffer.from(scores).equals(Buffer.from(embedded))).to.equal(true);
    for (const worker of workers) expect(worker.jobs()).to.be.greaterThan(0);
    // The coordinator hears of every job and who ran it (bench:shapley --scaling tallies the split from this): one
    // warm-up per connected worker (with keys this small one worker may take both), n projections, the term jobs and
    // one finish.
    const ran = (type: string) => done.filter((job) => job.type === type);
    expect(ran("prepare")).to.have.length(2);
    expect(ran("project")).to.have.length(problem.models.length);
    expect(ran("finish")).to.have.length(1);
    expect(new Set(done.map((job) => job.worker)).size).to.equal(2);
    for (const job of done) expect(job.milliseconds).to.be.at.least(0);
  });

  it("a worker SIGKILLed mid-job: the job is retried on the other worker, the output is unchanged", async () => {
    const doomed = await startWorker(home, redis.url, { CIPHERSHARE_KILL_AT: "worker-job" });
    const survivor = await startWorker(home, redis.url);
    children.push(doomed.child, survivor.child);
    const scores = await viaQueue();
    expect((await doomed.child.exited).signal).to.equal("SIGKILL");
    expect(doomed.jobs()).to.equal(0);
    expect(Buffer.from(scores).equals(Buffer.from(embedded))).to.equal(true);
  });

  it("attack: a rogue worker answering with another valid ciphertext changes the output bytes, which the auditor's recomputation catches", async () => {
    // Trust assumption (docs/runtime.md): workers are the coprocessor's; a rogue one sees only ciphertexts and public
    // data, so it learns nothing, and what it can do — return a wrong but well-formed ciphertext — makes the published
    // output differ from the auditor's own recomputation of the same public inputs, byte for byte.
    const previous = new Map<number, Hex>();
    const rogueStore: BlobStore = {
      maxBlobBytes: store.maxBlobBytes,
      get: (hash) => store.get(hash),
      has: (hash) => store.has(hash),
      // Answers each job with the previous result of its kind (z_{i−1} for z_i, another job's partial sum): well-formed
      // ciphertexts at the right level, wrong values.
      put: async (bytes) => {
        const hash = await store.put(bytes);
        const answer = previous.get(bytes.length) ?? hash;
        previous.set(bytes.length, hash);
        return answer;
      },
    };
    const rogue = startQueueWorker({ queue: redis.url, store: rogueStore });
    await rogue.ready;
    try {
      const scores = await viaQueue();
      expect(Buffer.from(scores).equals(Buffer.from(embedded))).to.equal(false);
    } finally {
      await rogue.close();
    }
  });

  it("submitted projections: the check jobs and Enc(φ) are the embedded computation's bytes", async () => {
    const worker = startQueueWorker({ queue: redis.url, store });
    await worker.ready;
    const seed: Hex = `0x${"c4".repeat(32)}`;
    // The combined check is declared failed, so one check per client follows (several check jobs in one valuation).
    const run = async (backend: "embedded" | "queue") => {
      const residuals: Uint8Array[] = [];
      const result = await computeEncryptedScores({
        parameterSetId: "deep-v2",
        bundle: backend === "queue" ? new Uint8Array() : bundleBytes,
        models,
        projections,
        consistency: {
          seed,
          accepts: async (residual, indices) => (residuals.push(residual), indices.length === 1),
        },
        kernel,
        map,
        ...(backend === "queue"
          ? { backend: await queueBackend({ queue: redis.url, store, bundleHash }) }
          : { workers: 0 }),
      });
      return { scores: result.scores, residuals, inconsistent: result.inconsistent };
    };
    try {
      const viaQueue = await run("queue");
      const local = await run("embedded");
      expect(viaQueue.residuals).to.have.length(1 + problem.models.length);
      viaQueue.residuals.forEach((bytes, k) =>
        expect(Buffer.from(bytes).equals(Buffer.from(local.residuals[k]))).to.equal(true),
      );
      expect(Buffer.from(viaQueue.scores).equals(Buffer.from(local.scores))).to.equal(true);
      expect(viaQueue.inconsistent).to.deep.equal([]);
    } finally {
      await worker.close();
    }
  });

  it("the 'submitted' key set: a worker loads the small (14-key) bundle by hash, projects a failing client by composed rotations, same bytes", async () => {
    const keys = generateShapleyKeys(ctx, kernel.r, 3, "submitted");
    expect(keys.bundle.galoisSteps).to.deep.equal([0, ...powerOfTwoSteps(ctx.slotCount, false)]);
    const smallHash = await publishBundleParts(store, await publicBundleParts(keys.bundle));
    const loaded = await loadPublicBundle(ctx, keys.bundle);
    const small = problem.models.map((w) => encryptModel(ctx, w, loaded.encryptor));
    const submitted = problem.models.map((w) => encryptProjection(ctx, kernel.r, w, loaded.encryptor));
    loaded.dispose();
    const worker = startQueueWorker({ queue: redis.url, store });
    await worker.ready;
    // Client 2's submission is declared failed: the workers project it (baby steps 3, 6 and giant step 9, composed).
    const run = async (backend: "embedded" | "queue") =>
      computeEncryptedScores({
        parameterSetId: "deep-v2",
        bundle: backend === "queue" ? new Uint8Array() : serializePublicBundle(keys.bundle),
        models: small,
        projections: submitted,
        consistency: { seed: `0x${"c5".repeat(32)}`, accepts: async (_, indices) => !indices.includes(2) },
        kernel,
        map,
        ...(backend === "queue"
          ? { backend: await queueBackend({ queue: redis.url, store, bundleHash: smallHash }) }
          : { workers: 0 }),
      });
    try {
      const viaQueue = await run("queue");
      const local = await run("embedded");
      expect(viaQueue.inconsistent).to.deep.equal([2]);
      expect(Buffer.from(viaQueue.scores).equals(Buffer.from(local.scores))).to.equal(true);
      const secret = loadSecretKey(ctx, keys.secretKey);
      const ciphertext = ctx.loadCiphertext(viaQueue.scores);
      const phi = Array.from(readScores(ctx.decrypt(ciphertext, secret.decryptor), map));
      ciphertext.delete();
      secret.dispose();
      const reference = referenceShapley(problem).phi;
      const largest = Math.max(...reference.map(Math.abs));
      phi.forEach((value, k) => expect(Math.abs(value - reference[k])).to.be.below(1e-6 * largest));
    } finally {
      await worker.close();
    }
  });

  it("refuses a --queue that is not a redis:// URL, naming it", () => {
    expect(() => redisConnection("http://127.0.0.1:6379")).to.throw(QueueUrlError, /redis:\/\/ URL[\s\S]*http:/);
    expect(() => redisConnection("not a url")).to.throw(QueueUrlError, /not a url/);
  });
});
