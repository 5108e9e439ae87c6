// The training pages in Chromium against the shared node: a training program (terms blob, program key, buyer key) on a
// fresh hub; the provider page reads and checks two .npy files, encrypts [XᵀX | XᵀY] in the worker, commits it with
// n_k and, in the reveal phase, reveals and uploads it — the coprocessor's own check accepts the upload and the program
// key decrypts it to the files' statistics; the buyer page decrypts a model envelope with a keystore sealed by the
// CLI's code, and no request of the tab carries the passphrase or the keystore.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  getAddress,
  http,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CommitmentStatus, ProgramKind } from "@ciphershare/protocol/chain/constants";
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { generateKeys, loadEncryptionKey, loadSecretKey, publicBundleParts } from "@ciphershare/protocol/ckks/keys";
import { parseNpyArray, serializeNpy } from "@ciphershare/protocol/formats/npy";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { matrix, transposeMultiply } from "@ciphershare/protocol/linalg/matrix";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { encodeTrainingTerms } from "@ciphershare/protocol/records/training-terms";
import { decryptMatrix, encryptMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { roleAccount } from "@ciphershare/coprocessor/chain/clients";
import { sealKeystore } from "@ciphershare/coprocessor/keys/keystore";
import { startBlobServer, type RunningBlobServer } from "@ciphershare/coprocessor/storage/http-server";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { modelLayout } from "@ciphershare/coprocessor/training/keys";
import { matrixEnvelope } from "@ciphershare/coprocessor/training/release";
import { verifyUpload } from "@ciphershare/coprocessor/training/upload";
import { appChain } from "../../src/chain/chain";
import { DEFAULT_RUNTIME_CONFIG } from "../../src/config/runtime";
import { devAccount } from "../../src/wallet/devAccounts";
import { buildAndServeApp, type ServedApp } from "../support/app";
import type { Browser } from "../support/browser";
import { ARTIFACTS, connectDevelopmentWallet, openChromiumPage } from "../support/e2e";
import { REPO_ROOT } from "../support/repo";

const HUB_ARTIFACT = join(REPO_ROOT, "artifacts/contracts/rounds/RoundManager.sol/RoundManager.json");
/** The page's account (development account 0: no other browser test uses it); node accounts 17 and 18 (network, custodian) sign in Node. */
const BROWSER_ACCOUNT = 0;
const NETWORK = 17;
const CUSTODIAN = 18;
const SHAPE = { features: 8, outputs: 3 };
const ROWS = 40;
const PASSPHRASE = "buyer's own passphrase";

describe("training pages in headless Chromium", () => {
  const rpcUrl = inject("rpcUrl");
  const chain = appChain({ ...DEFAULT_RUNTIME_CONFIG, rpcUrl });
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
  const blobDir = mkdtempSync(join(tmpdir(), "ciphershare-training-blobs-"));
  const outDir = mkdtempSync(join(tmpdir(), "ciphershare-training-app-"));
  const store = new LocalDirectoryBlobStore(blobDir);
  const account = devAccount(BROWSER_ACCOUNT).address;
  const x = matrix(
    ROWS,
    SHAPE.features,
    Float64Array.from({ length: ROWS * SHAPE.features }, (_, i) => Math.cos(i) / 2),
  );
  const labels = Float64Array.from({ length: ROWS }, (_, i) => (i * 7) % SHAPE.outputs);
  const w = matrix(
    SHAPE.features,
    SHAPE.outputs,
    Float64Array.from({ length: 24 }, (_, i) => (i - 11) / 13),
  );
  let pageErrors: string[] = [];
  /** Every request the browser context made (page and workers): URL and body. */
  const requests: string[] = [];
  let ctx: CkksContext;
  let programKeys: ReturnType<typeof generateKeys>;
  let hub: Address;
  let keystore: string;
  let modelRecord: Hex;
  let app: ServedApp;
  let blobServer: RunningBlobServer;
  let browser: Browser;
  let page: Page;

  const text = async (testId: string) => (await page.getByTestId(testId).textContent())?.trim();
  const mined = async (hash: Hex) => publicClient.waitForTransactionReceipt({ hash });

  beforeAll(async () => {
    const { bytecode } = JSON.parse(readFileSync(HUB_ARTIFACT, "utf8")) as { abi: Abi; bytecode: Hex };
    const network = createWalletClient({ account: roleAccount(NETWORK), chain, transport: http(rpcUrl) });
    hub = getAddress((await mined(await network.deployContract({ abi: roundManagerAbi, bytecode }))).contractAddress!);
    const deployment = join(outDir, "deployment.json");
    writeFileSync(deployment, JSON.stringify({ contracts: { RoundManager: hub } }));

    // The custodian's program key and the buyer's key (deep-v2, as `custodian keygen --training` and `buyer keygen`;
    // no rotation keys: neither page needs them), published as bundles; the terms blob.
    ctx = await CkksContext.create("deep-v2");
    programKeys = generateKeys(ctx);
    const buyerKeys = generateKeys(ctx);
    const programParts = await publicBundleParts(programKeys.bundle);
    const buyerParts = await publicBundleParts(buyerKeys.bundle);
    for (const parts of [programParts, buyerParts]) {
      for (const blob of [parts.encryption, parts.evaluation, parts.manifest]) await store.put(blob);
    }
    const termsHash = await store.put(encodeTrainingTerms({ ...SHAPE, lambda: 0.01, dpEpsilon: null }));
    await mined(
      await network.writeContract({
        address: hub,
        abi: roundManagerAbi,
        functionName: "createProgram",
        args: [
          {
            coprocessor: roleAccount(16).address,
            custodian: roleAccount(CUSTODIAN).address,
            payoutToken: roleAccount(15).address,
            publicKeyHash: programParts.hash,
            valuationMethod: 1,
            minContributors: 0,
            maxCommitments: 0,
            recoveryPeriod: 0,
            commitDeposit: 0n,
            kind: ProgramKind.Training,
            buyerKeyHash: buyerParts.hash,
            termsHash,
          },
        ],
      }),
    );
    const custodian = createWalletClient({ account: roleAccount(CUSTODIAN), chain, transport: http(rpcUrl) });
    await mined(
      await custodian.writeContract({ address: hub, abi: roundManagerAbi, functionName: "acceptProgram", args: [1n] }),
    );
    const { timestamp } = await publicClient.getBlock();
    await mined(
      await network.writeContract({
        address: hub,
        abi: roundManagerAbi,
        functionName: "openRound",
        args: [1n, `0x${"ba".repeat(32)}`, timestamp + 3600n, 3600, 60],
      }),
    );

    // What `training unmask` publishes (Enc_buyer(W) and its model record), and the buyer's keystore as `buyer keygen`
    // seals it (default scrypt cost).
    const buyerKey = loadEncryptionKey(ctx, buyerKeys.bundle, buyerParts.hash);
    const encryptedW = encryptMatrix(ctx, modelLayout(SHAPE, ctx.slotCount), w, buyerKey.encryptor);
    const envelope = await store.put(await matrixEnvelope(ctx, encryptedW, buyerParts.hash));
    encryptedW.dispose();
    buyerKey.dispose();
    modelRecord = await store.put(
      encodeJsonRecord({ kind: "ciphershare.training-model", version: 1, round: "1", u: envelope, model: envelope }),
    );
    keystore = await sealKeystore(buyerKeys.secretKey, PASSPHRASE, {
      parameterSetId: "deep-v2",
      publicBundleHash: buyerParts.hash,
    });

    process.env.CIPHERSHARE_DEPLOYMENT = deployment;
    app = await buildAndServeApp(rpcUrl, { html: "index.html", outDir: join(outDir, "dist") });
    blobServer = await startBlobServer(store, { allowedOrigins: [app.url] });
    process.env.CIPHERSHARE_COPROCESSOR_URL = blobServer.url;
    ({ browser, page, pageErrors } = await openChromiumPage({
      onRequest: (request) => requests.push(`${request.url()} ${request.postData() ?? ""}`),
    }));
  }, 600_000);

  afterAll(async () => {
    if (pageErrors.length > 0) writeFileSync(join(ARTIFACTS, "training-page-errors.txt"), pageErrors.join("\n"));
    await browser?.close();
    await app?.close();
    await blobServer?.close();
    ctx?.dispose();
    rmSync(blobDir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  });

  it("a provider checks its files, encrypts its statistics in the worker and commits them with n_k", async () => {
    await connectDevelopmentWallet(page, app.url, BROWSER_ACCOUNT, {
      address: account,
      then: { nav: "#/provide", ready: "page-provide" },
    });
    await page.getByTestId("step-1").getByRole("button", { name: "Register" }).click();
    await page.getByTestId("registered").waitFor({ timeout: 60_000 });
    await page.getByTestId("training-terms-ok").waitFor({ timeout: 30_000 });
    expect(await text("training-shape")).toBe("8 × 3");

    // A file of the wrong d is refused, naming it and the shapes; then the right ones.
    const rows = page.getByTestId("training-rows-file");
    const npy = (name: string, values: Float64Array, shape: number[]) => ({
      name,
      mimeType: "application/octet-stream",
      buffer: Buffer.from(serializeNpy(values, shape)),
    });
    await page.getByTestId("training-labels-file").setInputFiles(npy("y.npy", labels, [ROWS]));
    await rows.setInputFiles(npy("x.npy", x.data, [ROWS * 2, SHAPE.features / 2]));
    await page.getByTestId("training-data-error").waitFor();
    expect(await text("training-data-error")).toBe(
      "x.npy / y.npy: The data rows have the wrong number of features. (X is 80×4, the program has d = 8)",
    );
    await rows.setInputFiles(npy("x.npy", x.data, [ROWS, SHAPE.features]));
    await page.getByTestId("training-data-ok").waitFor();
    expect(await text("training-data-ok")).toBe("40 rows of 8 features and 3 outputs: every value finite.");

    await page.getByRole("button", { name: "Fetch the program key, compute and encrypt" }).click();
    await page.getByTestId("training-upload-ok").waitFor({ timeout: 120_000 });
    const uploadHash = (await text("training-upload-hash")) as Hex;
    expect(await text("fixed-commit")).toBe("Round 1; public sample count nk = 40 (your row count).");
    await page.getByTestId("step-6").getByRole("button", { name: "Commit on-chain" }).click();
    await page
      .getByTestId("my-commitment")
      .filter({ hasText: "sealed (not revealed yet)" })
      .waitFor({ timeout: 60_000 });
    const commitment = await publicClient.readContract({
      address: hub,
      abi: roundManagerAbi,
      functionName: "commitmentAt",
      args: [1n, 0n],
    });
    expect(commitment).toMatchObject({ contributor: account, sampleCount: 40n, status: CommitmentStatus.Sealed });
    await page.screenshot({ path: join(ARTIFACTS, "training-01-provider-committed.png"), fullPage: true });

    // Past the commit deadline, the page reveals and uploads; the coprocessor's own check accepts the upload.
    const testClient = createTestClient({ chain, mode: "hardhat", transport: http(rpcUrl) });
    await testClient.increaseTime({ seconds: 3700 });
    await testClient.mine({ blocks: 1 });
    await page
      .getByTestId("round-phase")
      .filter({ hasText: /reveal/i })
      .waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Reveal and upload" }).click();
    await page.getByTestId("uploaded-ok").waitFor({ timeout: 60_000 });
    expect(
      await publicClient.readContract({
        address: hub,
        abi: roundManagerAbi,
        functionName: "commitmentOf",
        args: [1n, account],
      }),
    ).toBe(uploadHash);
    const bytes = await store.get(uploadHash);
    expect(await keccak256(bytes)).toBe(uploadHash);
    const loaded = verifyUpload(ctx, bytes, SHAPE, 40);
    const secret = loadSecretKey(ctx, programKeys.secretKey);
    const system = decryptMatrix(ctx, loaded.statistics, secret.decryptor);
    loaded.dispose();
    secret.dispose();
    const y = matrix(ROWS, SHAPE.outputs);
    labels.forEach((label, row) => (y.data[row * SHAPE.outputs + label] = 1));
    const a = transposeMultiply(x, x);
    const b = transposeMultiply(x, y);
    const width = SHAPE.features + SHAPE.outputs;
    for (let r = 0; r < SHAPE.features; r++) {
      for (let k = 0; k < width; k++) {
        const expected =
          k < SHAPE.features ? a.data[r * SHAPE.features + k]! : b.data[r * SHAPE.outputs + k - SHAPE.features]!;
        expect(Math.abs(system.data[r * width + k]! - expected)).toBeLessThan(1e-6);
      }
    }
  });

  it("the buyer decrypts W with its keystore in the tab; no request carries the passphrase or the keystore", async () => {
    await page.locator('nav a[href="#/buyer"]').click();
    await page.getByTestId("page-buyer").waitFor();
    await page.getByTestId("training-terms-ok").waitFor({ timeout: 30_000 });
    await page.getByTestId("model-record-hash").fill(modelRecord);
    await page.getByRole("button", { name: "Fetch and check" }).click();
    await page.getByTestId("model-envelope-ok").waitFor({ timeout: 30_000 });
    await page.getByTestId("buyer-keystore-file").setInputFiles({
      name: "buyer.keystore.json",
      mimeType: "application/json",
      buffer: Buffer.from(keystore),
    });
    await page.getByTestId("buyer-passphrase").fill("not the passphrase");
    await page.getByRole("button", { name: "Decrypt W" }).click();
    await page.getByTestId("buyer-decrypt-error").waitFor({ timeout: 120_000 });
    expect(await text("buyer-decrypt-error")).toBe(
      "Wrong passphrase, or the keystore file was altered. (AES-256-GCM authentication failed)",
    );
    await page.getByTestId("buyer-passphrase").fill(PASSPHRASE);
    await page.getByRole("button", { name: "Decrypt W" }).click();
    await page.getByTestId("buyer-model").waitFor({ timeout: 120_000 });
    expect(await text("buyer-model-shape")).toBe("8 × 3");
    expect(await page.getByTestId("buyer-passphrase").inputValue()).toBe("");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId("buyer-model-download").click(),
    ]);
    const saved = join(outDir, "w.npy");
    await download.saveAs(saved);
    const { shape, values } = parseNpyArray(new Uint8Array(readFileSync(saved)));
    expect(shape).toEqual([8, 3]);
    values.forEach((v, i) => expect(Math.abs(v - w.data[i]!)).toBeLessThan(1e-6));
    await page.screenshot({ path: join(ARTIFACTS, "training-02-buyer-model.png"), fullPage: true });

    const ciphertext = (JSON.parse(keystore) as { ciphertext: string }).ciphertext;
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      expect(request).not.toContain(PASSPHRASE);
      expect(request).not.toContain(encodeURIComponent(PASSPHRASE));
      expect(request).not.toContain(ciphertext.slice(0, 64));
    }
    expect(pageErrors).toEqual([]);
  });
});
