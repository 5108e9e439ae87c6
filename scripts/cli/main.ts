import { CipherShareError } from "../../coprocessor/src/errors/base";
import { buildProgram } from "./program";

async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  if (error instanceof CipherShareError) {
    process.stderr.write(`ciphershare: ${error.shortMessage}\n`);
    if (error.details) process.stderr.write(`  ${error.details}\n`);
    if (process.env.CIPHERSHARE_DEBUG && error.cause) process.stderr.write(`  cause: ${String(error.cause)}\n`);
  } else {
    process.stderr.write(
      `ciphershare: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exitCode = 1;
});
