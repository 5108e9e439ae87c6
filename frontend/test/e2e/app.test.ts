import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  getAddress,
  http,
  zeroAddress,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildAndServeApp, type ServedApp } from "../support/app";
import { launchChromium, type Browser } from "../support/browser";
import { appChain } from "../../src/chain/chain";
import { DEFAULT_RUNTIME_CONFIG } from "../../src/config/runtime";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { EnvelopeKind, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { generateKeys, loadSecretKey, publicBundleParts } from "@ciphershare/protocol/ckks/keys";
import { decryptEnvelopeValues } from "@ciphershare/protocol/ckks/update";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { startBlobServer, type RunningBlobServer } from "@ciphershare/coprocessor/storage/http-server";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { contributorRegistryAbi, roundManagerAbi, royaltyTokenAbi } from "@ciphershare/protocol/chain/abis";
import { CKKS_PARAMETER_SET } from "../../src/fhe/params";
import { devAccount } from "../../src/wallet/devAccounts";
import { freeLoopbackPort } from "@ciphershare/coprocessor/process/ports";
import { REPO_ROOT } from "../support/repo";

const ZERO_HASH = `0x${"0".repeat(64)}` as const;

const ARTIFACTS = join(REPO_ROOT, "test-artifacts", "frontend");
const HARDHAT_ACCOUNT_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const INJECTED_ACCOUNT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const HUB_ARTIFACT = join(REPO_ROOT, "artifacts/contracts/rounds/RoundManager.sol/RoundManager.json");

/** Deploys the RoundManager hub (contributor and program registries) from the compiled artifact. */
async function deployHub(rpcUrl: string): Promise<Address> {
  const { bytecode } = JSON.parse(readFileSync(HUB_ARTIFACT, "utf8")) as { abi: Abi; bytecode: Hex };
  const chain = appChain({ ...DEFAULT_RUNTIME_CONFIG, rpcUrl });
  const deployer = createWalletClient({ account: devAccount(9), chain, transport: http(rpcUrl) });
  const hash = await deployer.deployContract({ abi: roundManagerAbi, bytecode });
  const receipt = await createPublicClient({ chain, transport: http(rpcUrl) }).waitForTransactionReceipt({ hash });
  return getAddress(receipt.contractAddress!);
}

/** A royalty token over a test ERC-20, and an encrypted balance of 1234.5 for `holder` (wrapped). */
async function fundConfidentialBalance(rpcUrl: string, holderIndex: number): Promise<Address> {
  const chain = appChain({ ...DEFAULT_RUNTIME_CONFIG, rpcUrl });
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
  const artifact = (path: string) =>
    JSON.parse(readFileSync(join(REPO_ROOT, "artifacts/contracts", path), "utf8")) as { abi: Abi; bytecode: Hex };
  const deployer = createWalletClient({ account: devAccount(9), chain, transport: http(rpcUrl) });
  const holder = createWalletClient({ account: devAccount(holderIndex), chain, transport: http(rpcUrl) });
  const mined = async (hash: Hex) => publicClient.waitForTransactionReceipt({ hash });
  const erc20 = artifact("mocks/TestERC20.sol/TestERC20.json");
  const underlying = (await mined(await deployer.deployContract({ ...erc20, args: ["Test USD", "TUSD"] })))
    .contractAddress!;
  const token = (
    await mined(
      await deployer.deployContract({
        abi: royaltyTokenAbi,
        bytecode: artifact("token/RoyaltyToken.sol/RoyaltyToken.json").bytecode,
        args: [underlying, "CipherShare Royalty", "cRYL", "", zeroAddress],
      }),
    )
  ).contractAddress!;
  const amount = 1_234_500_000n; // 1234.5 at 6 decimals
  const to = devAccount(holderIndex).address;
  await mined(
    await holder.writeContract({ address: underlying, abi: erc20.abi, functionName: "mint", args: [to, amount] }),
  );
  await mined(
    await holder.writeContract({ address: underlying, abi: erc20.abi, functionName: "approve", args: [token, amount] }),
  );
  await mined(
    await holder.writeContract({ address: token, abi: royaltyTokenAbi, functionName: "wrap", args: [to, amount] }),
  );
  return getAddress(token);
}

/** The commit deposit of the test program (wei). */
const COMMIT_DEPOSIT = 10n ** 15n;

/**
 * What the custodian does: a key pair of the rounds' set, its public bundle in the blob store, its hash in a program
 * it accepts; then round 1 opens.
 */
async function createProgramWithKeyBundle(
  rpcUrl: string,
  hub: Address,
  store: LocalDirectoryBlobStore,
): Promise<{ hash: Hex; ctx: CkksContext; secretKey: Uint8Array }> {
  const ctx = await CkksContext.create(CKKS_PARAMETER_SET.id);
  const keys = generateKeys(ctx);
  // Published as the custodian does: the two halves, then the manifest whose hash goes on-chain.
  const parts = await publicBundleParts(keys.bundle);
  for (const blob of [parts.encryption, parts.evaluation, parts.manifest]) await store.put(blob);
  const hash = parts.hash;
  expect(hash).toBe(await keccak256(parts.manifest));
  const chain = appChain({ ...DEFAULT_RUNTIME_CONFIG, rpcUrl });
  const network = createWalletClient({ account: devAccount(9), chain, transport: http(rpcUrl) });
  const tx = await network.writeContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "createProgram",
    args: [
      {
        coprocessor: devAccount(8).address,
        custodian: devAccount(7).address,
        payoutToken: devAccount(6).address,
        publicKeyHash: hash,
        valuationMethod: 1,
        minContributors: 0,
        maxCommitments: 0,
        recoveryPeriod: 0,
        commitDeposit: COMMIT_DEPOSIT,
        kind: 0,
        buyerKeyHash: ZERO_HASH,
        termsHash: ZERO_HASH,
      },
    ],
  });
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
  await publicClient.waitForTransactionReceipt({ hash: tx });
  const custodianWallet = createWalletClient({ account: devAccount(7), chain, transport: http(rpcUrl) });
  await publicClient.waitForTransactionReceipt({
    hash: await custodianWallet.writeContract({
      address: hub,
      abi: roundManagerAbi,
      functionName: "acceptProgram",
      args: [1n],
    }),
  });
  // Round 1 of program 1: an hour to commit, an hour to reveal.
  const { timestamp } = await publicClient.getBlock();
  const opened = await network.writeContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "openRound",
    args: [1n, `0x${"ba".repeat(32)}`, timestamp + 3600n, 3600, 60],
  });
  await publicClient.waitForTransactionReceipt({ hash: opened });
  return { hash, ctx, secretKey: keys.secretKey };
}

/** A MetaMask-like EIP-1193 wallet in the page, on Ethereum mainnet until the app asks it to switch. */
function injectWalletOnMainnet(account: string): void {
  type Listener = (value: unknown) => void;
  const listeners: Record<string, Listener[]> = {};
  const emit = (event: string, value: unknown) => (listeners[event] ?? []).forEach((l) => l(value));
  let chainId = "0x1";
  let connected = false;
  const ethereum = {
    isMetaMask: true,
    async request({ method, params }: { method: string; params?: unknown[] }): Promise<unknown> {
      switch (method) {
        case "eth_requestAccounts":
          connected = true;
          return [account];
        case "eth_accounts":
          return connected ? [account] : [];
        case "eth_chainId":
          return chainId;
        case "wallet_requestPermissions":
        case "wallet_getPermissions":
          return [{ parentCapability: "eth_accounts" }];
        case "wallet_switchEthereumChain": {
          chainId = (params?.[0] as { chainId: string }).chainId;
          emit("chainChanged", chainId);
          return null;
        }
        default:
          throw Object.assign(new Error(`unsupported ${method}`), { code: 4200 });
      }
    },
    on(event: string, listener: Listener) {
      (listeners[event] ??= []).push(listener);
    },
    removeListener(event: string, listener: Listener) {
      listeners[event] = (listeners[event] ?? []).filter((l) => l !== listener);
    },
    /** What a person does in the wallet's own network menu. */
    userSwitchesTo(id: string) {
      chainId = id;
      emit("chainChanged", id);
    },
  };
  Object.assign(window, { ethereum });
}

describe("CipherShare web app in headless Chromium", () => {
  let app: ServedApp;
  let browser: Browser;
  let page: Page;
  let registry: Address;
  let blobServer: RunningBlobServer;
  let keyBundleHash: Hex;
  let custodian: { ctx: CkksContext; secretKey: Uint8Array };
  let store: LocalDirectoryBlobStore;
  /** The hash of the envelope the page encrypted (what it seals, reveals and uploads). */
  let envelopeHash: Hex;
  const blobDir = mkdtempSync(join(tmpdir(), "ciphershare-blobs-"));
  const rpcUrl = inject("rpcUrl");
  const pageErrors: string[] = [];

  const screenshot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const text = async (testId: string) => (await page.getByTestId(testId).textContent())?.trim();
  const open = async (route: string) => {
    await page.locator(`nav a[href="#/${route}"]`).click();
    await page.getByTestId(`page-${route}`).waitFor();
  };
  /** Account #1's revealed hash in round 1, as the chain holds it (zero while sealed). */
  const revealedCommitment = () =>
    createPublicClient({ transport: http(rpcUrl) }).readContract({
      address: registry,
      abi: roundManagerAbi,
      functionName: "commitmentOf",
      args: [1n, HARDHAT_ACCOUNT_1],
    });

  beforeAll(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    registry = await deployHub(rpcUrl);
    const deployment = join(ARTIFACTS, "deployment.json");
    const royaltyToken = await fundConfidentialBalance(rpcUrl, 1);
    writeFileSync(deployment, JSON.stringify({ contracts: { RoundManager: registry, RoyaltyToken: royaltyToken } }));
    process.env.CIPHERSHARE_DEPLOYMENT = deployment;
    store = new LocalDirectoryBlobStore(blobDir);
    const program = await createProgramWithKeyBundle(rpcUrl, registry, store);
    keyBundleHash = program.hash;
    custodian = program;
    app = await buildAndServeApp(rpcUrl);
    blobServer = await startBlobServer(store, { allowedOrigins: [app.url] });
    process.env.CIPHERSHARE_COPROCESSOR_URL = blobServer.url;
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    page.on("response", (response) => {
      if (response.status() >= 400) pageErrors.push(`${response.status()} ${response.url()}`);
    });
  });

  afterAll(async () => {
    if (pageErrors.length > 0) writeFileSync(join(ARTIFACTS, "page-errors.txt"), pageErrors.join("\n"));
    await browser?.close();
    await app?.close();
    await blobServer?.close();
    rmSync(blobDir, { recursive: true, force: true });
  });

  it("connects the development wallet and shows the account and the chain", async () => {
    await page.goto(`${app.url}/#/connect`);
    const devWallet = page.getByTestId("dev-wallet");
    await devWallet.waitFor();
    expect(await devWallet.locator("h2").textContent()).toBe(
      "Development wallet — local test accounts, never use on a real network",
    );
    await page.getByTestId("rpc-chain-id").filter({ hasText: "31337" }).waitFor();
    await screenshot("01-connect");

    await page.getByTestId("dev-account-select").selectOption("1");
    await page.getByRole("button", { name: "Connect development wallet" }).click();
    await page.getByTestId("account-address").waitFor();
    expect(await text("account-address")).toBe(HARDHAT_ACCOUNT_1);
    expect(await text("wallet-chain-id")).toBe("31337");
    await page.getByTestId("account-balance").filter({ hasText: "ETH" }).waitFor();
    expect(await text("header-account")).toBe("0x7099…79C8");
    expect(Number(await text("block-number"))).toBeGreaterThanOrEqual(0);
    await screenshot("02-connect-development-wallet");
  });

  it("switches the test account from the picker while connected", async () => {
    await page.getByTestId("dev-account-select").selectOption("2");
    await page
      .getByTestId("account-address")
      .filter({ hasText: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" })
      .waitFor();
    await page.getByTestId("dev-account-select").selectOption("1");
    await page.getByTestId("account-address").filter({ hasText: HARDHAT_ACCOUNT_1 }).waitFor();
  });

  it("registers the connected account with a transaction", async () => {
    await open("contribute");
    const step = page.getByTestId("step-1");
    await step.getByRole("button", { name: "Register" }).click();
    await page.getByTestId("registered").waitFor({ timeout: 30_000 });
    expect(await text("registered")).toBe(
      `${HARDHAT_ACCOUNT_1} is registered with the contributor registry at ${registry}.`,
    );
    expect(await text("tx-status")).toMatch(/^Confirmed in block \d+\.$/);
    const chain = createPublicClient({ transport: http(rpcUrl) });
    expect(
      await chain.readContract({
        address: registry,
        abi: contributorRegistryAbi,
        functionName: "isRegistered",
        args: [HARDHAT_ACCOUNT_1],
      }),
    ).toBe(true);
  });

  it("encrypts and decrypts a CKKS vector with node-seal's WASM in a worker", async () => {
    await page.getByText("Check that encryption works in this browser").click();
    await page.getByTestId("ckks-selftest-run").click();
    const result = page.getByTestId("ckks-selftest-result");
    const failure = page.getByTestId("ckks-selftest-error");
    await Promise.race([result.waitFor({ timeout: 120_000 }), failure.waitFor({ timeout: 120_000 })]);
    if ((await failure.count()) > 0) throw new Error(`${await failure.textContent()}`);
    const maxError = Number(await result.getAttribute("data-max-error"));
    expect(maxError).toBeGreaterThan(0);
    expect(maxError).toBeLessThan(1e-4);
    expect(await result.textContent()).toMatch(/Encrypted 10,000 values into 2 ciphertexts/);
  });

  it("accepts a model-update file and explains why another one cannot be used", async () => {
    const input = page.getByTestId("update-file");
    await input.setInputFiles({ name: "weights.pt", mimeType: "application/octet-stream", buffer: Buffer.from("x") });
    expect(await text("update-file-error")).toBe(
      "weights.pt is not a model update: choose a .npy, .safetensors, .json file.",
    );
    await input.setInputFiles({
      name: "update.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify({ values: [0.1, -0.2, 0.3] })),
    });
    expect(await text("update-file-ok")).toBe("update.json — 25 B: 3 values in values [3] → 1 ciphertext");
  });

  it("checks the program's key bundle against its on-chain hash and encrypts the update under it", async () => {
    await page.getByTestId("program-key-hash").filter({ hasText: keyBundleHash }).waitFor();
    await page.getByRole("button", { name: "Fetch and check the key bundle" }).click();
    await page.getByTestId("key-bundle-ok").waitFor({ timeout: 30_000 });
    expect(await text("key-bundle-ok")).toMatch(/^Key bundle of program 1 \(.+\) matches its on-chain hash\.$/);
    await page.getByRole("button", { name: "Encrypt my update" }).click();
    await page.getByTestId("encrypted-ok").waitFor({ timeout: 60_000 });
    expect(await text("encrypted-ok")).toMatch(
      /^Encrypted 3 values into 1 ciphertext under program 1's key: envelope .+, hash 0x[0-9a-f]{64}\.$/,
    );
    envelopeHash = /hash (0x[0-9a-f]{64})\.$/.exec((await text("encrypted-ok")) ?? "")![1] as Hex;
  });

  it("commits only the seal of the envelope's hash, with the deposit, and follows the round", async () => {
    await page.getByTestId("sample-count").fill("600");
    await page.getByTestId("commit-deposit").filter({ hasText: "0.001 ETH" }).waitFor();
    const step = page.getByTestId("step-5");
    await step.getByRole("button", { name: "Commit on-chain" }).click();
    await step
      .getByTestId("tx-status")
      .filter({ hasText: /^Confirmed in block \d+\.$/ })
      .waitFor({ timeout: 30_000 });
    await page.getByTestId("my-commitment").filter({ hasText: "sealed (not revealed yet)" }).waitFor();
    await page.getByTestId("round-commit-count").filter({ hasText: /^1$/ }).waitFor();
    expect(await text("round-phase")).toBe("open");
    // Nothing that names the ciphertext is public during the commit phase.
    expect(await revealedCommitment()).toBe(`0x${"0".repeat(64)}`);
    expect(await store.has(envelopeHash)).toBe(false);

    // A second commit is refused by the contract; the page names the custom error and sends nothing.
    await step.getByRole("button", { name: "Commit on-chain" }).click();
    await step.getByRole("alert").waitFor({ timeout: 30_000 });
    expect(await step.getByRole("alert").textContent()).toBe(
      `The contract rejected the call with AlreadyCommitted(roundId: 1, contributor: ${HARDHAT_ACCOUNT_1}). You already committed to this round; one contribution per round.`,
    );
    await page.getByTestId("waiting-for-reveal").waitFor();
    await screenshot("03-contribute-committed");
  });

  it("reveals and uploads in the reveal phase; the custodian's key decrypts the upload back to the file's values", async () => {
    // The commit deadline passes (an hour on the dev chain's clock).
    await createTestClient({ mode: "hardhat", transport: http(rpcUrl) }).increaseTime({ seconds: 3601 });
    await page
      .getByTestId("round-phase")
      .filter({ hasText: /^reveal$/ })
      .waitFor({ timeout: 30_000 });
    const step = page.getByTestId("step-6");
    await step.getByRole("button", { name: "Reveal and upload" }).click();
    await page.getByTestId("uploaded-ok").waitFor({ timeout: 30_000 });
    const hash = (await page.getByTestId("uploaded-ok").locator("code").textContent()) as Hex;
    expect(hash).toBe(envelopeHash);
    await page.getByTestId("my-commitment").filter({ hasText: hash }).waitFor();
    expect(await revealedCommitment()).toBe(hash);
    await screenshot("03-contribute");

    // The coprocessor's own reader accepts what the browser wrote, bound to the program's key bundle.
    const envelope = await parseEnvelope(await store.get(hash), {
      kind: EnvelopeKind.Contribution,
      publicBundleHash: keyBundleHash,
    });
    expect(envelope.header.tensors).toEqual([{ name: "values", shape: [3] }]);
    const key = loadSecretKey(custodian.ctx, custodian.secretKey);
    try {
      const values = decryptEnvelopeValues(custodian.ctx, envelope, key.decryptor);
      [0.1, -0.2, 0.3].forEach((expected, i) => expect(values[i]).toBeCloseTo(expected, 6));
    } finally {
      key.dispose();
    }
  });

  it("shows the royalties, dashboard and audit pages", async () => {
    await open("royalties");
    expect(await text("royalties-account")).toBe(HARDHAT_ACCOUNT_1);
    // fhEVM user decryption: one EIP-712 signature from the development wallet, clear value on this page only.
    await page.getByRole("button", { name: "Decrypt my balance" }).click();
    await page.getByTestId("balance-clear").waitFor({ timeout: 60_000 });
    expect(await text("balance-clear")).toBe("1,234.5 (1234500000 base units)");
    await screenshot("04-royalties");
    await open("dashboard");
    await page.getByTestId("dashboard-chain-id").filter({ hasText: "31337" }).waitFor();
    // Round 1 of program 1, in its reveal phase, with the contribution committed and revealed above.
    await page
      .getByTestId("round-row-1")
      .filter({ hasText: /^11reveal11––/ })
      .waitFor();
    await page.getByTestId("scores-empty").waitFor();
    await screenshot("05-dashboard");
    await open("audit");
    // The commitment made above, and its blob re-hashed from the coprocessor's store.
    const row = page.getByTestId("audit-commitment");
    await row.getByTestId("audit-blob").filter({ hasText: "blob matches" }).waitFor({ timeout: 30_000 });
    expect(await row.locator("td").nth(0).textContent()).toBe(HARDHAT_ACCOUNT_1);
    expect(await row.locator("td").nth(1).textContent()).toBe("600");
    expect(await row.getByTestId("audit-status").textContent()).toBe("revealed");
    await screenshot("06-audit");
  });

  it("flags an injected wallet on the wrong network and switches it back", async () => {
    const walletPage = await browser.context.newPage();
    walletPage.on("pageerror", (error) => pageErrors.push(error.message));
    await walletPage.addInitScript(injectWalletOnMainnet, INJECTED_ACCOUNT);
    await walletPage.goto(`${app.url}/#/connect`);
    await walletPage.getByRole("button", { name: /^Connect (MetaMask|Injected)/ }).click();
    await walletPage.getByTestId("account-address").filter({ hasText: INJECTED_ACCOUNT }).waitFor();
    // Connecting asked the wallet to move to the local chain.
    expect((await walletPage.getByTestId("wallet-chain-id").textContent())?.trim()).toBe("31337");

    await walletPage.evaluate(() =>
      (window as unknown as { ethereum: { userSwitchesTo(id: string): void } }).ethereum.userSwitchesTo("0x1"),
    );
    const banner = walletPage.getByTestId("network-banner");
    await banner.filter({ hasText: "Wrong network: your wallet is on chain 1." }).waitFor();
    await walletPage.screenshot({ path: join(ARTIFACTS, "07-wrong-network.png"), fullPage: true });
    await banner.getByRole("button", { name: /^Switch to / }).click();
    await banner.waitFor({ state: "detached" });
    expect((await walletPage.getByTestId("wallet-chain-id").textContent())?.trim()).toBe("31337");
    await walletPage.close();
  });

  it("says how to start the chain when the node does not answer", async () => {
    const deadPort = await freeLoopbackPort();
    const configured = process.env.CIPHERSHARE_RPC_URL;
    process.env.CIPHERSHARE_RPC_URL = `http://127.0.0.1:${deadPort}`;
    const offline = await browser.context.newPage();
    try {
      await offline.goto(`${app.url}/#/connect`);
      const banner = offline.getByTestId("network-banner");
      await banner.filter({ hasText: "is not answering" }).waitFor();
      expect(await banner.textContent()).toBe(
        `The chain at http://127.0.0.1:${deadPort} is not answering. Start the local stack with npm run app and reload this page.`,
      );
      expect((await offline.getByTestId("rpc-chain-id").textContent())?.trim()).toBe("unreachable");
      await offline.screenshot({ path: join(ARTIFACTS, "08-chain-not-answering.png"), fullPage: true });
    } finally {
      process.env.CIPHERSHARE_RPC_URL = configured;
      await offline.close();
    }
  });

  it("raised no error in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
