import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, loadPublicBundle, publicBundleHash } from "@ciphershare/protocol/ckks/keys";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { ExclusionReason } from "@ciphershare/protocol/chain/constants";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { type Hex } from "@ciphershare/protocol/hex";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import { modelTensors, ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import {
  checkContribution,
  MAX_SAMPLES_PER_CONTRIBUTION,
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

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), "ciphershare-exclusions-"));
    store = new LocalDirectoryBlobStore(directory);
    ctx = await CkksContext.create(ROUND_PARAMETER_SET_ID);
    const programKeys = generateKeys(ctx);
    const otherKeys = generateKeys(ctx);
    const encryptUnder = async (keys: typeof programKeys, values: Float64Array, tensors: TensorSpec[]) => {
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

  it("Policy: a sample count of 0 or above the program's cap", async () => {
    for (const sampleCount of [0, MAX_SAMPLES_PER_CONTRIBUTION + 1]) {
      const verdict = await checkContribution(store, { ciphertextHash: valid, sampleCount }, rules);
      expect(verdict).to.include({ included: false, reason: ExclusionReason.Policy });
    }
  });

  it("hashes agree with the store's content addressing", async () => {
    expect(await keccak256(await store.get(valid))).to.equal(valid);
  });
});
