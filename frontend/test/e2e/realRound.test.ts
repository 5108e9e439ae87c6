// A real royalty round through the web app: `npm run app`'s services (embedded chain, blob store, deployed
// contracts, the 2-of-3 committee's deep-v2 keys, coprocessor and three member processes), a contributor in Chromium who
// registers, encrypts a trained model in the page and commits it, two more contributors through the CLI (one a free
// rider), then close → coprocessor → custodian release → fund → finalize → settle, and back in the page: the score
// chart, the flagged free rider, which committee members released the round, the decrypted owed royalty, the claim
// and the decrypted balance.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, http, type Address } from "viem";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import { contributorUpdate, mnistFederatedSetup } from "@ciphershare/coprocessor/simulation/federated";
import { zeroModel } from "@ciphershare/protocol/records/model";
import { DEMO_DATA_SEED, DEMO_LABEL_SKEW_ALPHA, DEMO_TRAINING } from "@ciphershare/scripts/demo/settings";
import { startAppServices, type AppServices } from "@ciphershare/scripts/app/services";
import { serveWebApp, type ServedWebApp } from "@ciphershare/scripts/app/webServer";
import { roundManagerAbi, royaltyDistributorAbi } from "@ciphershare/protocol/chain/abis";
import { SettlementState } from "@ciphershare/protocol/chain/constants";
import { devAccount } from "../../src/wallet/devAccounts";
import { launchChromium, type Browser } from "../support/browser";
import { freeLoopbackPort } from "@ciphershare/coprocessor/process/ports";
import { REPO_ROOT } from "../support/repo";

const ARTIFACTS = join(REPO_ROOT, "test-artifacts", "frontend");
const CLIENTS = 3;
/** Contributor 0 of the demo's split plays in the browser: development account 4 (the CLI's contributor 0). */
const BROWSER_ACCOUNT_INDEX = 4;
const POOL_UNITS = 1_000_000_000n;

describe("a real royalty round through the web app", () => {
  const home = mkdtempSync(join(tmpdir(), "ciphershare-app-"));
  const outDir = mkdtempSync(join(tmpdir(), "ciphershare-app-dist-"));
  const account = devAccount(BROWSER_ACCOUNT_INDEX).address;
  let services: AppServices;
  let app: ServedWebApp;
  let browser: Browser;
  let page: Page;
  let modelFile: Uint8Array;
  let sampleCount: number;
  const pageErrors: string[] = [];

  const screenshot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const open = async (route: string) => {
    await page.locator(`nav a[href="#/${route}"]`).click();
    await page.getByTestId(`page-${route}`).waitFor();
  };
  const chain = () => createPublicClient({ transport: http(services.rpcUrl) });
  const phaseOfRoundOne = async () =>
    Number(
      (
        (await chain().readContract({
          address: services.deployment.rounds as Address,
          abi: roundManagerAbi,
          functionName: "round",
          args: [1n],
        })) as { phase: number }
      ).phase,
    );
  const until = async (what: string, condition: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  };

  const serviceLog = join(ARTIFACTS, "round-services.log");

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    rmSync(serviceLog, { force: true });
    // The browser contributor's model: trained locally like the CLI's contributor 0, saved as .npy.
    const setup = mnistFederatedSetup({ seed: DEMO_DATA_SEED, clients: CLIENTS, alpha: DEMO_LABEL_SKEW_ALPHA });
    const base = zeroModel(785, 10);
    const update = contributorUpdate(setup, 0, { kind: "honest" }, base, 1, DEMO_DATA_SEED, DEMO_TRAINING);
    modelFile = serializeNpy(update.model.weights, [785, 10]);
    sampleCount = update.sampleCount;

    const port = await freeLoopbackPort();
    services = await startAppServices({
      home,
      allowedOrigins: [`http://127.0.0.1:${port}`],
      publicScores: true,
      commitPeriod: 3600,
      log: (line) => appendFileSync(serviceLog, `${line}\n`),
    });
    app = await serveWebApp(services, port, outDir);
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      // The audit page asks the store for the round's input blobs; the store refuses them to the browser (401: the
      // inputs are only for the computing parties) and the page shows them as restricted. That refusal is expected.
      const refusedInput = / 401 /.test(message.text()) && /\/blobs\/0x[0-9a-f]{64}$/.test(message.location().url);
      if (message.type() === "error" && !refusedInput) pageErrors.push(message.text());
    });
  }, 300_000);

  // Each step needs the previous one: after a failure, screenshot the page and skip the rest.
  let failed = false;
  beforeEach(() => {
    if (failed) throw new Error("an earlier step of the round failed");
  });
  afterEach(async (context) => {
    if (context.task.result?.state !== "fail" || failed) return;
    failed = true;
    await page?.screenshot({ path: join(ARTIFACTS, "round-failed.png"), fullPage: true }).catch(() => {});
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await services?.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  });

  it("contributes from the page: development wallet, gasless registration, deep-v2 key bundle, encrypt, commit a seal", async () => {
    await page.goto(`${app.url}/#/connect`);
    await page.getByTestId("dev-wallet").waitFor();
    await page.getByTestId("dev-account-select").selectOption(String(BROWSER_ACCOUNT_INDEX));
    await page.getByRole("button", { name: "Connect development wallet" }).click();
    await page.getByTestId("account-address").filter({ hasText: account }).waitFor();
    await screenshot("round-01-connect");

    await open("contribute");
    // Gasless: the development wallet signs the EIP-712 Register message, the app server's relayer submits it
    // (the transaction path is app.test.ts's).
    const before = await chain().getBalance({ address: account });
    await page.getByTestId("step-1").getByRole("button", { name: "Sign a gasless registration" }).click();
    await page.getByTestId("registered").waitFor({ timeout: 30_000 });
    expect(await chain().getBalance({ address: account })).toBe(before);
    await page
      .getByTestId("update-file")
      .setInputFiles({ name: "model.npy", mimeType: "application/octet-stream", buffer: Buffer.from(modelFile) });
    await page.getByTestId("update-file-ok").filter({ hasText: "7,850 values" }).waitFor();
    // The 272 MB deep-v2 bundle is fetched and hashed in the page before anything is encrypted under it.
    await page.getByTestId("program-key-hash").filter({ hasText: services.publicBundleHash }).waitFor();
    await page.getByRole("button", { name: "Fetch and check the key bundle" }).click();
    await page.getByTestId("key-bundle-ok").waitFor({ timeout: 120_000 });
    await page.getByRole("button", { name: "Encrypt my update" }).click();
    await page.getByTestId("encrypted-ok").waitFor({ timeout: 120_000 });
    await page.getByTestId("sample-count").fill(String(sampleCount));
    const commit = page.getByTestId("step-5");
    await commit.getByRole("button", { name: "Commit on-chain" }).click();
    await commit
      .getByTestId("tx-status")
      .filter({ hasText: /^Confirmed in block \d+\.$/ })
      .waitFor({ timeout: 30_000 });
    await page.getByTestId("round-commit-count").filter({ hasText: /^1$/ }).waitFor();
    await page.getByTestId("my-commitment").filter({ hasText: "sealed (not revealed yet)" }).waitFor();
    await screenshot("round-02-contribute");
  }, 300_000);

  it("two CLI contributors commit; in the reveal phase the page reveals and uploads, and so do they", async () => {
    for (const [index, behaviour] of [
      [1, "honest"],
      [2, "free-rider"],
    ] as const) {
      const common = ["--index", String(index)];
      await services.cli(["contributor", "register", ...common]);
      await services.cli([
        "contributor",
        "submit",
        "--round",
        "1",
        "--clients",
        String(CLIENTS),
        "--data-seed",
        String(DEMO_DATA_SEED),
        "--behaviour",
        behaviour,
        ...common,
      ]);
    }
    // Contributor 1 moves the dev chain's clock past the commit deadline and reveals; the page sees the phase.
    await services.cli(["contributor", "reveal", "--round", "1", "--index", "1", "--advance-time"]);
    await services.cli(["contributor", "reveal", "--round", "1", "--index", "2"]);
    await page
      .getByTestId("round-phase")
      .filter({ hasText: /^reveal$/ })
      .waitFor({ timeout: 30_000 });
    await page.getByTestId("step-6").getByRole("button", { name: "Reveal and upload" }).click();
    await page.getByTestId("uploaded-ok").waitFor({ timeout: 60_000 });
    await page.getByTestId("round-revealed-count").filter({ hasText: /^3$/ }).waitFor();
    await screenshot("round-02b-revealed");
  }, 300_000);

  it("runs the rest of the round through the roles: close, coprocessor, fund, finalize, custodian release and settlement", async () => {
    await services.cli(["network", "close", "--round", "1", "--advance-time"]);
    // The coprocessor service picks the closed round up: verify, FedAvg, encrypted Shapley, publish.
    await until("the coprocessor's results", async () => (await phaseOfRoundOne()) >= 3, 420_000);
    await services.cli(["network", "fund", "--round", "1", "--amount", POOL_UNITS.toString()]);
    await services.cli(["network", "finalize", "--round", "1", "--advance-time"]);
    // Only now, the round final, the committee's members (three processes) release (φ public in this round), anchor
    // the release and settle the funded pool — each after recomputing both outputs from the committed inputs.
    await until(
      "the custodian's completed settlement",
      async () =>
        (await chain().readContract({
          address: services.deployment.distributor as Address,
          abi: royaltyDistributorAbi,
          functionName: "settlementState",
          args: [1n],
        })) === SettlementState.Completed,
      900_000,
    );
  }, 1_500_000);

  it("shows the round's released scores on the dashboard, with the free rider flagged", async () => {
    await open("dashboard");
    await page.getByTestId("score-charts").waitFor({ timeout: 60_000 });
    await page.getByTestId("release-row-1").filter({ hasText: "public" }).waitFor();
    await page.getByTestId("pool-1").filter({ hasText: "1000" }).waitFor({ timeout: 60_000 });
    // The app's custody is a 2-of-3 committee: the rounds table names the two members whose partial decryptions
    // released the round, read from the committee contract.
    const releasedBy = page.getByTestId("round-released-by-1");
    await releasedBy.filter({ hasText: "released by member" }).waitFor({ timeout: 60_000 });
    expect(await releasedBy.textContent()).toMatch(/^released by member [123], [123] \(2 of 3\)$/);
    const flagged = page.getByTestId("flagged-contributor");
    await flagged.first().waitFor();
    expect(await flagged.allTextContents()).toEqual([
      `round 1: ${devAccount(BROWSER_ACCOUNT_INDEX + 2).address} (φ ≤ 0, no share)`,
    ]);
    expect(await page.locator("[data-testid=score-charts] .recharts-bar-rectangle").count()).toBe(3);
    await screenshot("round-03-dashboard");
  }, 120_000);

  it("decrypts the owed royalty for the contributor only, claims it, and decrypts the new balance", async () => {
    await open("royalties");
    const round = page.getByTestId("owed-round-1");
    await round.waitFor({ timeout: 30_000 });
    await round.getByRole("button", { name: "Decrypt my royalty" }).click();
    const owed = page.getByTestId("owed-clear-1");
    await owed.waitFor({ timeout: 60_000 });
    const units = BigInt(/\((\d+) base units\)/.exec((await owed.textContent()) ?? "")![1]!);
    expect(units).toBeGreaterThan(0n);
    expect(units).toBeLessThanOrEqual(POOL_UNITS);
    const handleBefore = (await page.getByTestId("balance-handle").textContent())?.trim();
    await round.getByRole("button", { name: "Claim" }).click();
    await round.getByRole("button", { name: "Claimed" }).waitFor({ timeout: 60_000 });
    // The claim moved the amount into the confidential balance: a new handle, decrypted again.
    await page.waitForFunction(
      (before) => document.querySelector("[data-testid=balance-handle]")?.textContent?.trim() !== before,
      handleBefore,
      { timeout: 30_000 },
    );
    await page.getByRole("button", { name: "Decrypt my balance" }).click();
    await page
      .getByTestId("balance-clear")
      .filter({ hasText: `(${units} base units)` })
      .waitFor({ timeout: 60_000 });
    await screenshot("round-04-royalties");
  }, 180_000);

  it("shows the round's commitments on the audit page, every input blob restricted, and the auditor's passing verdict", async () => {
    await open("audit");
    const rows = page.getByTestId("audit-commitment");
    await rows.nth(2).waitFor({ timeout: 30_000 });
    // The inputs are served only to the round's computing parties: the browser sees them restricted.
    await page.getByTestId("audit-blob").filter({ hasText: "blob restricted" }).nth(2).waitFor({ timeout: 60_000 });
    // The app server runs `ciphershare audit` (FedAvg and encrypted Shapley re-run from public data).
    await page.getByTestId("audit-run").click();
    await page.getByTestId("audit-passed").waitFor({ timeout: 240_000 });
    expect(await page.getByTestId("audit-passed").textContent()).toBe("Round 1: every check passed.");
    const checks = await page.getByTestId("audit-check").locator("td:first-child").allTextContents();
    expect(checks).toEqual(
      expect.arrayContaining([
        "scores-commitment",
        "release-after-finalization",
        "shapley-efficiency",
        "score-release",
        "shares-sum-to-pool",
      ]),
    );
    expect(await page.getByTestId("audit-publication-verdict").allTextContents()).toEqual([
      "included",
      "included",
      "included",
    ]);
    await screenshot("round-05-audit");
  }, 360_000);

  it("raised no error in the page", () => {
    writeFileSync(join(ARTIFACTS, "round-page-errors.txt"), pageErrors.join("\n"));
    expect(pageErrors).toEqual([]);
  });
});
