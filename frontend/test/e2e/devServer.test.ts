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
    await page.getByTestId("ckks-selftest-run").click();
    const result = page.getByTestId("ckks-selftest-result");
    const failure = page.getByTestId("ckks-selftest-error");
    await Promise.race([result.waitFor({ timeout: 120_000 }), failure.waitFor({ timeout: 120_000 })]);
    if ((await failure.count()) > 0) throw new Error(`${await failure.textContent()}`);
    expect(Number(await result.getAttribute("data-max-error"))).toBeLessThan(1e-4);
  });
});
