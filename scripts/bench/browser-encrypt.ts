// Encryption in the contributor's browser: headless Chromium (Debian's, scripts/setup/chromium.sh) driven by
// playwright-core, the web app's own CKKS worker (served by Vite's dev server, the test page that exposes
// `tryEncrypt`), a real encryption bundle of the round's parameter set and a d×c = 7 850-value update.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { createServer } from "vite";
import { freeLoopbackPort } from "@ciphershare/coprocessor/process/ports";
import { PROJECT_ROOT } from "../lib/cli-process";

const CHROMIUM = process.env.CIPHERSHARE_CHROMIUM ?? "/usr/bin/chromium";

export interface BrowserEncryptResult {
  /** Milliseconds of `encryptUpdate` in the page, warm (the median of the runs after the first). */
  readonly browserEncryptMs: number;
  /** The first run, which also loads SEAL's WASM and the public key in the worker. */
  readonly browserEncryptFirstMs: number;
  readonly values: number;
}

/** Null (with a reason logged) when Chromium is not installed. */
export async function benchBrowserEncrypt(
  encryptionBundle: Uint8Array,
  values: Float64Array,
  log: (line: string) => void,
  runs = 4,
): Promise<BrowserEncryptResult | null> {
  if (!existsSync(CHROMIUM)) {
    log(`browser encryption: skipped, no Chromium at ${CHROMIUM} (bash scripts/setup/chromium.sh)`);
    return null;
  }
  const frontend = join(PROJECT_ROOT, "frontend");
  const port = await freeLoopbackPort();
  const server = await createServer({
    configFile: join(frontend, "vite.config.mts"),
    root: frontend,
    logLevel: "warn",
    server: { host: "127.0.0.1", port, strictPort: true, hmr: false, open: false },
  });
  await server.listen();
  const profile = mkdtempSync(join(tmpdir(), "ciphershare-bench-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/test/e2e/fixtures/ckks.html`);
    await page.waitForFunction(() => "tryEncrypt" in globalThis, undefined, { timeout: 180_000 });
    const samples: number[] = [];
    for (let run = 0; run < runs; run++) {
      const [outcome, ms] = await page.evaluate(
        async ([v, k]) => {
          const started = performance.now();
          const answer = await (
            globalThis as unknown as { tryEncrypt(v: number[], k: number[]): Promise<string> }
          ).tryEncrypt(v, k);
          return [answer, performance.now() - started] as const;
        },
        [Array.from(values), Array.from(encryptionBundle)] as const,
      );
      if (!outcome.startsWith("ok:")) throw new Error(`the browser did not encrypt: ${outcome}`);
      samples.push(ms);
    }
    const warm = samples.slice(1).sort((a, b) => a - b);
    const result = {
      browserEncryptMs: Math.round(warm[Math.floor(warm.length / 2)] ?? samples[0]),
      browserEncryptFirstMs: Math.round(samples[0]),
      values: values.length,
    };
    log(
      `browser (headless Chromium): encrypt ${values.length} values in ${result.browserEncryptMs} ms (first, with WASM and key loading: ${result.browserEncryptFirstMs} ms)`,
    );
    return result;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await server.close();
  }
}
