import { builtinModules } from "node:module";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

const BROWSER_SAFE = "The protocol package runs in browsers (the web worker encrypts with it): no Node-only modules.";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "artifacts/",
      "cache/",
      "typechain-types/",
      "dist/",
      "fhevmTemp/",
      "frontend/dist/",
      "coverage/",
      "protocol/src/chain/abis.ts",
      "**/*.js",
      "**/*.mjs",
      "**/*.cjs",
    ],
  },
  ...tseslint.configs.recommended,
  { files: ["frontend/**/*.{ts,tsx}"], ...reactHooks.configs.flat.recommended },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // What may enter the browser-safe package: no Node built-ins, no ethers, nothing of the Node-side packages.
    files: ["protocol/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: builtinModules.map((name) => ({ name, message: BROWSER_SAFE })),
          patterns: [
            { group: ["node:*"], message: BROWSER_SAFE },
            { group: ["ethers", "ethers/*", "hardhat", "hardhat/*"], message: BROWSER_SAFE },
            {
              group: [
                "@ciphershare/coprocessor",
                "@ciphershare/coprocessor/*",
                "@ciphershare/scripts",
                "@ciphershare/scripts/*",
              ],
              message: "The protocol package is the bottom layer: it imports no other CipherShare package.",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        ...["process", "Buffer", "__dirname", "__filename", "require", "module"].map((name) => ({
          name,
          message: BROWSER_SAFE,
        })),
      ],
    },
  },
);
