import { expect } from "chai";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import type { Hex } from "@ciphershare/protocol/hex";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { parseNpy, parseNpyArray, serializeNpy } from "@ciphershare/protocol/formats/npy";
import { ModelFormatError } from "@ciphershare/protocol/formats/model-update";
import { decodeUsageReport, encodeUsageReport } from "@ciphershare/protocol/records/usage-report";
import { attributionRows } from "@ciphershare/coprocessor/usage/attribution";
import { periodInputs } from "@ciphershare/coprocessor/usage/period";
import { prepareUsageReport } from "@ciphershare/coprocessor/usage/report";
import { syntheticAttributions } from "@ciphershare/coprocessor/usage/synthetic";
import { keyedContext, type KeyedContext } from "../../support/ckks";

describe("usage: the operator's report and the coprocessor's period inputs (fast-v1)", function () {
  this.timeout(120_000);
  const rules = { contributors: 4, generationCap: 1 };
  let keyed: KeyedContext;

  before(async () => {
    keyed = await keyedContext("fast-v1");
  });

  it("reads an operator's .npy as rows, keeping non-finite values for screening", () => {
    const values = Float64Array.from([0.1, 0.2, 0.3, 0.4, NaN, 0, 0, 0]);
    const bytes = serializeNpy(values, [2, 4]);
    expect(() => parseNpy(bytes)).to.throw(ModelFormatError, /non-finite/);
    const rows = attributionRows(parseNpyArray(bytes));
    expect(rows).to.have.length(2);
    expect(Number.isNaN(rows[1][0])).to.equal(true);
    expect(() => attributionRows(parseNpyArray(serializeNpy(values)))).to.throw(InvalidInputError, /\[generations/);
  });

  it("screens, batches and names every batch by hash and count; the report's bytes are canonical", async () => {
    const vectors: number[][] = syntheticAttributions(25, 4, { seed: 3 }).map((v) => Array.from(v));
    vectors.push([0.5, -0.5, 0, 0], [2, 0, 0, 0], [0.1, 0.1]);
    const prepared = await prepareUsageReport(keyed.ctx, keyed.bundle, rules, vectors, { round: 9n, batchSize: 10 });
    expect(prepared.report.generations).to.equal(25);
    expect(prepared.report.batches.map((b) => b.generations)).to.deep.equal([10, 10, 5]);
    expect(prepared.report.excluded).to.deep.equal({ "wrong-length": 1, "not-finite": 0, negative: 1, "over-cap": 1 });
    for (const [i, batch] of prepared.batches.entries()) {
      expect(await keccak256(batch)).to.equal(prepared.report.batches[i].hash);
    }
    expect(decodeUsageReport(prepared.reportBytes)).to.deep.equal(prepared.report);
    expect(encodeUsageReport(decodeUsageReport(prepared.reportBytes))).to.deep.equal(prepared.reportBytes);
    const lying = new TextEncoder().encode(
      new TextDecoder().decode(prepared.reportBytes).replace('"generations":25', '"generations":2500'),
    );
    expect(() => decodeUsageReport(lying)).to.throw(InvalidInputError, /not the sum of the batches/);
    await expectRejection(
      prepareUsageReport(keyed.ctx, keyed.bundle, rules, [[-1, 0, 0, 0]], { round: 9n }),
      /No valid attribution vector/,
    );
  });

  it("excludes reports that are missing, altered, under other terms or miscounted, and batches named twice", async () => {
    const store = new Map<string, Uint8Array>();
    const put = async (bytes: Uint8Array) => {
      const hash = await keccak256(bytes);
      store.set(hash, bytes);
      return hash;
    };
    const make = async (seed: number, round = 9n, r = rules) => {
      const vectors = syntheticAttributions(12, r.contributors, { seed });
      const prepared = await prepareUsageReport(keyed.ctx, keyed.bundle, r, vectors, { round, batchSize: 6 });
      for (const batch of prepared.batches) await put(batch);
      return prepared;
    };
    const good = await make(1);
    const otherRound = await make(2, 8n);
    const otherTerms = await make(3, 9n, { contributors: 5, generationCap: 1 });
    const copycat = { ...(await make(4)).report };
    const reused = encodeUsageReport({
      ...copycat,
      batches: [copycat.batches[0], good.report.batches[1]],
    });
    const missingHash = (await keccak256(new Uint8Array([1, 2, 3]))) as Hex;
    const alteredHash = await put((await make(5)).reportBytes);
    store.set(alteredHash, new TextEncoder().encode("{}"));
    const reports = [
      { hash: await put(good.reportBytes), committedGenerations: 12 },
      { hash: missingHash, committedGenerations: 12 },
      { hash: alteredHash, committedGenerations: 12 },
      { hash: await put(otherRound.reportBytes), committedGenerations: 12 },
      { hash: await put(otherTerms.reportBytes), committedGenerations: 12 },
      { hash: await put(good.reportBytes.slice()), committedGenerations: 11 },
      { hash: await put(reused), committedGenerations: 12 },
    ];
    // Report 5 is the same bytes as report 0 (same hash) with another committed count.
    const inputs = await periodInputs(reports, async (hash) => store.get(hash), {
      round: 9n,
      parameterSetId: keyed.ctx.parameterSet.id,
      publicBundleHash: keyed.bundle.hash,
      rules,
      slotCount: keyed.ctx.slotCount,
    });
    expect(inputs.excludedReports.map((r) => [r.index, r.reason])).to.deep.equal([
      [1, "blob-missing"],
      [2, "hash-mismatch"],
      [3, "wrong-terms"],
      [4, "wrong-terms"],
      [5, "count-mismatch"],
    ]);
    expect(inputs.excludedReports[2].details).to.equal("round 8, expected 9");
    expect(inputs.excludedReports[3].details).to.equal("5 contributors, program has 4");
    expect(inputs.includedReports).to.deep.equal([0, 6]);
    expect(inputs.excluded.map((b) => b.reason)).to.deep.equal(["duplicate"]);
    expect(inputs.included.map((b) => b.generations)).to.deep.equal([6, 6, 6]);
  });
});

async function expectRejection(promise: Promise<unknown>, message: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).to.be.instanceOf(InvalidInputError);
  expect((caught as Error).message).to.match(message);
}
