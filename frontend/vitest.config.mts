import { defineConfig, mergeConfig } from "vitest/config";
import viteConfig from "./vite.config.mts";

/**
 * Two projects: fast component/unit tests in happy-dom, and the browser end-to-end test (Node
 * environment driving Debian's Chromium). One local Hardhat node, started by the global setup,
 * serves both.
 */
export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      globalSetup: ["./test/support/globalSetup.ts"],
      projects: [
        {
          extends: true,
          test: {
            name: "components",
            environment: "happy-dom",
            // happy-dom's fetch rejects the node's CORS answer that Chromium accepts (the browser
            // tests cover the real thing), so components reach the local node without it.
            environmentOptions: { happyDOM: { settings: { fetch: { disableSameOriginPolicy: true } } } },
            include: ["test/unit/**/*.test.{ts,tsx}"],
            testTimeout: 30_000,
          },
        },
        {
          extends: true,
          test: {
            name: "browser",
            environment: "node",
            include: ["test/e2e/**/*.test.ts"],
            testTimeout: 180_000,
            hookTimeout: 180_000,
          },
        },
      ],
    },
  }),
);
