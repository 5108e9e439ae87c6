import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, loadPublicBundle, publicBundleHash } from "@ciphershare/protocol/ckks/keys";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { CommitmentStatus, ExclusionReason } from "@ciphershare/protocol/chain/constants";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { hexToBytes, type Address, type Hex } from "@ciphershare/protocol/hex";
import type { RoundCommitment } from "@ciphershare/protocol/round/inputs";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import { modelTensors, ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import { projectionTensors, withProjection } from "@ciphershare/protocol/round/contribution";
import {
  checkContribution,
  MAX_SAMPLES_PER_CONTRIBUTION,
  verifyInputs,
  type InputRules,
} from "@ciphershare/coprocessor/roles/coprocessor";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";

// Each exclusion reason the coprocessor publishes (and the auditor reproduces), from real envelopes in a real store.
describe("coprocessor input checks: one test per exclusion reason", () => {
  const d = 785;
  const c = 10;
  let directory: string;
  let store: LocalDirectoryBlobStore;
  let ctx: CkksContext;
  let rules: InputRules;
  let valid: Hex;
  let otherBundle: Hex;
  let wrongShape: Hex;
  let wrongLayout: Hex;
  let withZ: Hex;
  let misplacedZ: Hex;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), "ciphershare-exclusions-"));
    store = new LocalDirectoryBlobStore(directory);
    ctx = await CkksContext.create(ROUND_PARAMETER_SET_ID);
    const programKeys = generateKeys(ctx);
    const otherKeys = generateKeys(ctx);
    const encryptUnder = async (keys: typeof programKeys, values: Float64Array, tensors: readonly TensorSpec[]) => {
      const bundle = await loadPublicBundle(ctx, keys.bundle);
      try {
        const envelope = await encryptModelUpdate(ctx, bundle, { tensors, values });
        return store.put(envelope);
      } finally {
        bundle.dispose();
      }
    };
    valid = await encryptUnder(programKeys, new Float64Array(d * c).fill(0.01), modelTensors(d, c));
    rules = {
      parameterSetId: ROUND_PARAMETER_SET_ID,
      publicBundleHash: await publicBundleHash(programKeys.bundle),
      tensors: modelTensors(d, c),
    };
    otherBundle = await encryptUnder(otherKeys, new Float64Array(d * c), modelTensors(d, c));
    wrongShape = await encryptUnder(programKeys, new Float64Array(10 * c), modelTensors(10, c));
    // The same number of values under another name and shape: a browser once sent `model[d·c]`.
    wrongLayout = await encryptUnder(programKeys, new Float64Array(d * c), [{ name: "model", shape: [d * c] }]);
    const layout = { dimension: d, classes: c, parameterSet: ctx.parameterSet };
    const w = new Float64Array(d * c).fill(0.01);
    const layout2 = withProjection({ tensors: modelTensors(d, c), values: w }, w, layout);
    withZ = await encryptUnder(programKeys, layout2.values, layout2.tensors);
    // The projection right after the model (no padding): it would straddle two ciphertexts.
    const values = new Float64Array(2 * d * c).fill(0.01);
    misplacedZ = await encryptUnder(programKeys, values, [
      ...modelTensors(d, c),
      { name: "projection", shape: [d, c] },
    ]);
  });

  after(() => {
    ctx.dispose();
    rmSync(directory, { recursive: true, force: true });
  });

  it("includes a well-formed contribution under the program's bundle", async () => {
    const verdict = await checkContribution(store, { ciphertextHash: valid, sampleCount: 100 }, rules);
    expect(verdict.included).to.equal(true);
  });

  it("BlobMissing: nothing stored under the committed hash", async () => {
    const verdict = await checkContribution(store, { ciphertextHash: `0x${"ab".repeat(32)}`, sampleCount: 100 }, rules);
    expect(verdict).to.include({ included: false, reason: ExclusionReason.BlobMissing });
  });

  it("HashMismatch: the stored bytes do not hash to the commitment", async () => {
    const bytes = new Uint8Array(64).fill(7);
    const hash = await store.put(bytes);
    writeFileSync(join(directory, hash.slice(2, 4), hash.slice(2)), new Uint8Array(64).fill(8));
    const verdict = await checkContribution(store, { ciphertextHash: hash, sampleCount: 100 }, rules);
    expect(verdict).to.include({ included: false, reason: ExclusionReason.HashMismatch });
  });

  it("Malformed: not an envelope, another program's bundle, or another tensor layout (even with as many values)", async () => {
    const garbage = await store.put(new TextEncoder().encode("not an envelope"));
    for (const [hash, problem] of [
      [garbage, /bad-magic|truncated/],
      [otherBundle, /wrong-public-bundle/],
      [wrongShape, /tensors weights\[10×\d+\], the round's model is weights/],
      [wrongLayout, /tensors model\[\d+\], the round's model is weights/],
    ] as const) {
      const verdict = await checkContribution(store, { ciphertextHash: hash, sampleCount: 100 }, rules);
      expect(verdict).to.include({ included: false, reason: ExclusionReason.Malformed });
      expect(verdict.included === false && verdict.detail).to.match(problem);
    }
  });

  it("a contribution with its projection (layout 2) enters a round that published R, and only that layout", async () => {
    const withR = {
      ...rules,
      projectionTensors: projectionTensors({ dimension: d, classes: c, parameterSet: ctx.parameterSet }),
    };
    expect((await checkContribution(store, { ciphertextHash: withZ, sampleCount: 100 }, withR)).included).to.equal(
      true,
    );
    expect((await checkContribution(store, { ciphertextHash: valid, sampleCount: 100 }, withR)).included).to.equal(
      true,
    );
    const misplaced = await checkContribution(store, { ciphertextHash: misplacedZ, sampleCount: 100 }, withR);
    expect(misplaced).to.include({ included: false, reason: ExclusionReason.Malformed });
    expect(misplaced.included === false && misplaced.detail).to.match(
      /tensors weights\[785×10\], projection\[785×10\], the round's model is weights\[785×10\] \(or with its projection: weights\[785×10\], padding\[\d+\], projection\[785×10\]\)/,
    );
    // A round without R takes no projection: nothing could check it.
    const old = await checkContribution(store, { ciphertextHash: withZ, sampleCount: 100 }, rules);
    expect(old).to.include({ included: false, reason: ExclusionReason.Malformed });
  });

  it("Policy: a sample count of 0 or above the program's cap", async () => {
    for (const sampleCount of [0, MAX_SAMPLES_PER_CONTRIBUTION + 1]) {
      const verdict = await checkContribution(store, { ciphertextHash: valid, sampleCount }, rules);
      expect(verdict).to.include({ included: false, reason: ExclusionReason.Policy });
    }
  });

  it("a round's reasons: the chain's Unrevealed and Duplicate are taken as decided, revealed blobs are checked", async () => {
    const zero = `0x${"0".repeat(64)}` as Hex;
    const commitment = (index: number, status: number, ciphertextHash: Hex): RoundCommitment => ({
      index,
      contributor: `0x${(index + 1).toString(16).padStart(40, "0")}` as Address,
      sampleCount: 100,
      status: status as RoundCommitment["status"],
      ciphertextHash,
      uri: status === CommitmentStatus.Sealed ? "" : "local:",
    });
    const commitments = [
      commitment(0, CommitmentStatus.Revealed, valid),
      commitment(1, CommitmentStatus.Sealed, zero),
      // A Duplicate is never fetched: even a valid blob under its hash stays out.
      commitment(2, CommitmentStatus.Duplicate, valid),
      commitment(3, CommitmentStatus.Revealed, otherBundle),
    ];
    const fetched: string[] = [];
    const inputs = await verifyInputs(commitments, rules, (uri) => {
      fetched.push(uri);
      return store;
    });
    expect(inputs.included.map((i) => i.index)).to.deep.equal([0]);
    expect([...hexToBytes(inputs.reasons)]).to.deep.equal([
      ExclusionReason.None,
      ExclusionReason.Unrevealed,
      ExclusionReason.Duplicate,
      ExclusionReason.Malformed,
    ]);
    expect(inputs.exclusions.map((e) => [e.index, e.reason])).to.deep.equal([
      [1, ExclusionReason.Unrevealed],
      [2, ExclusionReason.Duplicate],
      [3, ExclusionReason.Malformed],
    ]);
    expect(fetched).to.have.length(2); // only the revealed, non-duplicate commitments' blobs
  });

  it("hashes agree with the store's content addressing", async () => {
    expect(await keccak256(await store.get(valid))).to.equal(valid);
  });
});
