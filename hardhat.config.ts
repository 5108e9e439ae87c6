import "@fhevm/hardhat-plugin";
import "@nomicfoundation/hardhat-chai-matchers";
import "@nomicfoundation/hardhat-ethers";
import "@typechain/hardhat";
import { readdirSync } from "node:fs";
import path from "node:path";
import {
  TASK_COMPILE,
  TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD,
  TASK_TEST_GET_TEST_FILES,
} from "hardhat/builtin-tasks/task-names";
import { subtask, task, type HardhatUserConfig } from "hardhat/config";
import { ABI_MODULE, writeAbiModule } from "./scripts/codegen/abis";

const SOLC_VERSION = "0.8.27";

// Hardhat downloads compilers from the internet; this machine has none. The `solc` npm package,
// pinned to SOLC_VERSION, ships the same compiler as soljson.js.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: solc.version(),
  };
});

// The off-chain code's typed ABIs (protocol/src/chain/abis.ts) follow the contracts: regenerated after every compile.
task(TASK_COMPILE, async (args, hre, runSuper) => {
  const result: unknown = await runSuper(args);
  writeAbiModule(hre.config.paths.artifacts, ABI_MODULE);
  return result;
});

/** Contract-level attack tests, one file per attack family; `hardhat test` runs them after test/contracts. */
const ADVERSARIAL_TESTS = path.join(__dirname, "test", "adversarial");

// `hardhat test` without arguments runs `paths.tests` (test/contracts) and every `*.test.ts` under test/adversarial
// but the `*-e2e.test.ts` ones (roles as processes on a local node: mocha runs them, .mocharc.coprocessor.json).
subtask(TASK_TEST_GET_TEST_FILES, async (args: { testFiles: string[] }, _hre, runSuper) => {
  const files = (await runSuper(args)) as string[];
  if (args.testFiles.length !== 0) return files;
  const adversarial = readdirSync(ADVERSARIAL_TESTS, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".test.ts") && !file.endsWith("-e2e.test.ts"))
    .sort()
    .map((file) => path.join(ADVERSARIAL_TESTS, file));
  return [...files, ...adversarial];
});

const config: HardhatUserConfig = {
  defaultNetwork: "hardhat",
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 800 },
      evmVersion: "cancun",
      metadata: { bytecodeHash: "none" },
    },
  },
  networks: {
    hardhat: { chainId: 31337, allowUnlimitedContractSize: false },
    localhost: { url: process.env.CIPHERSHARE_RPC_URL ?? "http://127.0.0.1:8545", chainId: 31337 },
  },
  paths: { sources: "contracts", tests: "test/contracts", artifacts: "artifacts", cache: "cache" },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  mocha: { timeout: 300_000 },
};

export default config;
