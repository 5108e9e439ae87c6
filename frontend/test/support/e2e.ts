// What the browser end-to-end tests share: a program with an open round on the shared node, the web app served against
// its deployment, Chromium on a page whose errors are recorded, the development wallet connected, and a file's steps
// stopping at the first failure (with a screenshot), since each step builds on the one before.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Address, Hex } from "viem";
import type { Page, Request } from "playwright-core";
import { afterEach, beforeEach } from "vitest";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { mined, type ChainReader, type ChainSigner } from "@ciphershare/coprocessor/chain/clients";
import { contractsFor } from "@ciphershare/coprocessor/chain/contracts";
import { deployWithSigner } from "@ciphershare/coprocessor/chain/deploy";
import { freeLoopbackPort } from "@ciphershare/coprocessor/process/ports";
import { createProgram } from "@ciphershare/coprocessor/roles/network";
import { serveWebApp, type ServedWebApp, type WebAppOptions } from "@ciphershare/scripts/app/webServer";
import { launchChromium, type Browser } from "./browser";
import { REPO_ROOT } from "./repo";

/** Where the browser tests leave their screenshots and logs. */
export const ARTIFACTS = join(REPO_ROOT, "test-artifacts", "frontend");

export interface ChromiumPage {
  readonly browser: Browser;
  readonly page: Page;
  /** The page's uncaught exceptions and console errors, in order: each file's last step expects none. */
  readonly pageErrors: string[];
}

/** Headless Chromium (a fresh profile) with one page whose errors are recorded; `onRequest` sees every request. */
export async function openChromiumPage(
  options: { onRequest?: (request: Request) => void } = {},
): Promise<ChromiumPage> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await launchChromium();
  if (options.onRequest) browser.context.on("request", options.onRequest);
  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  return { browser, page, pageErrors };
}

/**
 * Connects the development wallet as account `index` on the app's connect page; `address`: waits until the header
 * shows it; `then`: follows that nav link and waits for the test id that marks its page.
 */
export async function connectDevelopmentWallet(
  page: Page,
  appUrl: string,
  index: number,
  options: { address?: Address; then?: { nav: string; ready: string } } = {},
): Promise<void> {
  await page.goto(`${appUrl}/#/connect`);
  await page.getByTestId("dev-account-select").selectOption(String(index));
  await page.getByRole("button", { name: "Connect development wallet" }).click();
  if (options.address !== undefined) {
    await page.getByTestId("account-address").filter({ hasText: options.address }).waitFor();
  }
  if (options.then !== undefined) {
    await page.locator(`nav a[href="${options.then.nav}"]`).click();
    await page.getByTestId(options.then.ready).waitFor();
  }
}

/**
 * Registers hooks that fail every step after the first failure (they depend on it) and screenshot the page at that
 * failure as `<name>-failed.png`.
 */
export function stopAtFirstFailure(name: string, page: () => Page | undefined): void {
  let failed = false;
  beforeEach(() => {
    if (failed) throw new Error("an earlier step failed");
  });
  afterEach(async (context) => {
    if (context.task.result?.state !== "fail" || failed) return;
    failed = true;
    await page()
      ?.screenshot({ path: join(ARTIFACTS, `${name}-failed.png`), fullPage: true })
      .catch(() => {});
  });
}

export interface OpenRoundOptions {
  readonly reader: ChainReader;
  /** Deploys, creates the program and opens its round. */
  readonly network: ChainSigner;
  /** Accepts the program. */
  readonly custodian: ChainSigner;
  readonly parties: Omit<Parameters<typeof createProgram>[2], "custodian">;
  readonly minContributors: number;
  /** The round's public seed (any 32 bytes: no valuation runs in these tests). */
  readonly seed: Hex;
  /** What the program needs before the custodian accepts it (a usage program's terms). */
  readonly configure?: (deployment: Deployment) => Promise<unknown>;
}

/**
 * A fresh deployment with program 1 accepted and its round 1 open: commitments for 120 s after the current block,
 * then 120 s of reveals and a 60 s dispute window.
 */
export async function deployWithOpenRound(options: OpenRoundOptions): Promise<Deployment> {
  const { reader, network, custodian } = options;
  const deployment = await deployWithSigner(network);
  await createProgram(
    deployment,
    network,
    { ...options.parties, custodian: custodian.address },
    { minContributors: options.minContributors },
  );
  await options.configure?.(deployment);
  await mined(reader, contractsFor(deployment, custodian).rounds.write.acceptProgram([1n]));
  const { timestamp } = await reader.getBlock();
  await mined(
    reader,
    contractsFor(deployment, network).rounds.write.openRound([1n, options.seed, timestamp + 120n, 120, 60]),
  );
  return deployment;
}

/**
 * The web app (production build into `outDir`, its app server with the relays) on a free loopback port, pointed at
 * the node, the deployment and these of its contracts (written as the app's deployment file in `home`).
 */
export async function serveAppFor(
  rpcUrl: string,
  deployment: Deployment,
  contracts: Readonly<Record<string, Address | undefined>>,
  dirs: { readonly home: string; readonly outDir: string },
  options: WebAppOptions = {},
): Promise<ServedWebApp> {
  const webDeploymentFile = join(dirs.home, "web-deployment.json");
  writeFileSync(webDeploymentFile, JSON.stringify({ contracts }));
  const port = await freeLoopbackPort();
  return serveWebApp(
    { rpcUrl, blobUrl: rpcUrl, deployment, webDeploymentFile, ws: { home: dirs.home } },
    port,
    dirs.outDir,
    options,
  );
}
