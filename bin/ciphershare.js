#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly so `npx ciphershare` works right after install.
// npm puts the `node@22` devDependency first on PATH, which node-seal needs.
require("tsx/cjs");
require("../scripts/cli/main.ts");
