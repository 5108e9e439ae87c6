#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly so `npx ciphershare` works right after install.
// npm puts the `node@22` devDependency first on PATH, which node-seal needs.
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const { spawnSync } = require("node:child_process");

// The contracts' typed ABIs are generated at compile time (protocol/src/chain/abis.ts); a fresh install compiles once.
const root = join(__dirname, "..");
if (!existsSync(join(root, "protocol", "src", "chain", "abis.ts"))) {
  process.stderr.write("ciphershare: compiling the contracts (first run)…\n");
  const compiled = spawnSync("npx", ["hardhat", "compile", "--quiet"], { cwd: root, stdio: ["ignore", 2, 2] });
  if (compiled.status !== 0) process.exit(compiled.status ?? 1);
}
require("tsx/cjs");
require("../scripts/cli/main.ts");
