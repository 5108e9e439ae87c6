import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { serveAppForDevelopment, type ServedApp } from "../support/app";
import { launchChromium, type Browser } from "../support/browser";

/** The dev server serves node-seal unbundled: its WASM must load there too, not only in a build. */
describe("CipherShare under the Vite dev server", () => {
  let app: ServedApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    app = await serveAppForDevelopment(inject("rpcUrl"));
    browser = await launchChromium();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("loads node-seal's WASM in the worker and round-trips a CKKS vector", async () => {
    await page.goto(`${app.url}/#/contribute`);
    await page.getByText("Check that encryption works in this browser").click();
    await page.getByTestId("ckks-selftest-run").click();
    const result = page.getByTestId("ckks-selftest-result");
    const failure = page.getByTestId("ckks-selftest-error");
    await Promise.race([result.waitFor({ timeout: 120_000 }), failure.waitFor({ timeout: 120_000 })]);
    if ((await failure.count()) > 0) throw new Error(`${await failure.textContent()}`);
    expect(Number(await result.getAttribute("data-max-error"))).toBeLessThan(1e-4);
  });

  it("says so when the key bundle's public key is not a SEAL key, and refuses non-finite values", async () => {
    await page.goto(`${app.url}/test/e2e/fixtures/ckks.html`);
    await page.waitForFunction(() => "tryEncrypt" in window);
    const tryEncrypt = (values: number[], key: number[]) =>
      page.evaluate(
        ([v, k]) => (window as unknown as { tryEncrypt(v: number[], k: number[]): Promise<string> }).tryEncrypt(v, k),
        [values, key] as const,
      );
    expect(
      await tryEncrypt(
        [0.5, 1.5],
        Array.from({ length: 64 }, (_, i) => i),
      ),
    ).toMatch(/^This is not a CipherShare key bundle: Malformed public bundle: bad magic/);
    expect(await tryEncrypt([0.5, Number.NaN], [1, 2, 3])).toBe(
      "The model update has a non-finite value (NaN) at position 1.",
    );
  });
});
