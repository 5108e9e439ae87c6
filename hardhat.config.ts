import "@fhevm/hardhat-plugin";
import "@nomicfoundation/hardhat-chai-matchers";
import "@nomicfoundation/hardhat-ethers";
import "@typechain/hardhat";
import { TASK_COMPILE, TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
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
