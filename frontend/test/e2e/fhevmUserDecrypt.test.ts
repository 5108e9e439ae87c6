import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { createPublicClient, createWalletClient, http, type Abi, type Address, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { appChain } from "../../src/chain/chain";
import { DEFAULT_RUNTIME_CONFIG } from "../../src/config/runtime";
import { devAccount } from "../../src/wallet/devAccounts";
import { buildAndServeApp, serveAppForDevelopment, type ServedApp } from "../support/app";
import { launchChromium, type Browser } from "../support/browser";
import { REPO_ROOT } from "../support/repo";

const PROBE_ARTIFACT = join(REPO_ROOT, "artifacts", "contracts", "mocks", "ChainProbe.sol", "ChainProbe.json");

/**
 * The piece the Royalties page rests on: fhEVM user decryption in the browser. The mock client is
 * bundled by Vite (with the SDK's web build), a value is encrypted and stored through the
 * development wallet, and decrypted for that account only after its EIP-712 signature.
 */
const FIXTURE = "test/e2e/fixtures/fhevm.html";
const FIXTURE_BUILD = join(tmpdir(), `ciphershare-fhevm-fixture-${process.pid}`);

describe.skipIf(!existsSync(PROBE_ARTIFACT)).each([
  { server: "dev server", serve: (rpcUrl: string) => serveAppForDevelopment(rpcUrl) },
  {
    server: "production build",
    serve: (rpcUrl: string) => buildAndServeApp(rpcUrl, { html: FIXTURE, outDir: FIXTURE_BUILD }),
  },
])("fhEVM user decryption in Chromium ($server)", ({ serve }) => {
  const rpcUrl = inject("rpcUrl");
  let app: ServedApp;
  let browser: Browser;
  let page: Page;
  let probe: Address;

  beforeAll(async () => {
    const artifact = JSON.parse(readFileSync(PROBE_ARTIFACT, "utf8")) as { abi: Abi; bytecode: Hex };
    const chain = appChain({ ...DEFAULT_RUNTIME_CONFIG, rpcUrl });
    const deployer = createWalletClient({ account: devAccount(5), chain, transport: http(rpcUrl) });
    const hash = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode });
    const receipt = await createPublicClient({ chain, transport: http(rpcUrl) }).waitForTransactionReceipt({ hash });
    probe = receipt.contractAddress!;
    app = await serve(rpcUrl);
    browser = await launchChromium();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(FIXTURE_BUILD, { recursive: true, force: true });
  });

  it("stores an encrypted value with the development wallet and decrypts it for that account", async () => {
    await page.goto(`${app.url}/${FIXTURE}`);
    await page.waitForFunction(() => "storeAndDecrypt" in window, undefined, { timeout: 60_000 });
    const clear = await page.evaluate(
      ([url, address]) =>
        (window as unknown as { storeAndDecrypt(u: string, a: string, v: string): Promise<string> }).storeAndDecrypt(
          url,
          address,
          "424242",
        ),
      [rpcUrl, probe] as const,
    );
    expect(clear).toBe("424242");
  });
});
