import { CipherShareError } from "@ciphershare/protocol/errors";
import { buildProgram } from "./program";

async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  if (error instanceof CipherShareError) {
    process.stderr.write(`ciphershare: ${error.shortMessage}\n`);
    if (error.details) process.stderr.write(`  ${error.details}\n`);
    if (process.env.CIPHERSHARE_DEBUG && error.cause) process.stderr.write(`  cause: ${String(error.cause)}\n`);
  } else if (contractRevertOf(error) !== undefined) {
    process.stderr.write(`ciphershare: The contract refused the call: ${contractRevertOf(error)}\n`);
  } else {
    process.stderr.write(
      `ciphershare: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exitCode = 1;
});

/** An ethers CALL_EXCEPTION decoded against the contract's ABI: its custom error with arguments. */
function contractRevertOf(error: unknown): string | undefined {
  const revert = (error as { revert?: { name?: string; args?: readonly unknown[] } } | null)?.revert;
  if (revert?.name === undefined) return undefined;
  return `${revert.name}(${(revert.args ?? []).map(String).join(", ")})`;
}
