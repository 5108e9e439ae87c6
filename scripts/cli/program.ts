import { Command } from "commander";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { register as registerAudit } from "./commands/audit";
import { register as registerBuyer } from "./commands/buyer";
import { register as registerContributor } from "./commands/contributor";
import { register as registerCoprocessor } from "./commands/coprocessor";
import { register as registerCustodian } from "./commands/custodian";
import { register as registerNetwork } from "./commands/network";
import { register as registerNode } from "./commands/node";
import { register as registerOperator } from "./commands/operator";
import { register as registerProvider } from "./commands/provider";
import { register as registerTraining } from "./commands/training";
import { register as registerUsage } from "./commands/usage";
import { register as registerValue } from "./commands/value";

/**
 * Each role registers its subcommands here. Commands live in `scripts/cli/commands/<name>.ts` and export
 * `register(program)`; keeping registration explicit makes `--help` list them in a stable order.
 */
const registrations: Array<(program: Command) => void> = [
  registerNode,
  registerNetwork,
  registerContributor,
  registerOperator,
  registerCoprocessor,
  registerCustodian,
  registerAudit,
  registerUsage,
  registerValue,
  registerBuyer,
  registerProvider,
  registerTraining,
];

export function buildProgram(): Command {
  const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string };
  const program = new Command()
    .name("ciphershare")
    .description("Privacy-preserving AI contribution royalties: encrypted contributions, encrypted Shapley valuation.")
    .version(pkg.version)
    .showHelpAfterError("(run with --help for usage)");
  for (const register of registrations) register(program);
  return program;
}
