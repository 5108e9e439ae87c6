import { BaseError, ContractFunctionRevertedError, decodeErrorResult, type Hex } from "viem";
import { cipherShareErrorsAbi } from "@ciphershare/protocol/chain/abis";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { buildProgram } from "./program";

async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  const revert = contractRevertOf(error);
  if (error instanceof CipherShareError) {
    process.stderr.write(`ciphershare: ${error.shortMessage}\n`);
    if (error.details) process.stderr.write(`  ${error.details}\n`);
    if (process.env.CIPHERSHARE_DEBUG && error.cause) process.stderr.write(`  cause: ${String(error.cause)}\n`);
  } else if (revert !== undefined) {
    process.stderr.write(`ciphershare: The contract refused the call: ${revert}\n`);
  } else {
    process.stderr.write(
      `ciphershare: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exitCode = 1;
});

/**
 * A reverted contract call named by its custom error and arguments, decoded against every CipherShare contract's
 * errors (a call into one contract may revert with another's).
 */
function contractRevertOf(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined;
  if (reverted.data?.errorName !== undefined) {
    return `${reverted.data.errorName}(${(reverted.data.args ?? []).map(String).join(", ")})`;
  }
  if (reverted.raw !== undefined) {
    try {
      const decoded = decodeErrorResult({ abi: cipherShareErrorsAbi, data: reverted.raw as Hex });
      return `${decoded.errorName}(${(decoded.args ?? []).map(String).join(", ")})`;
    } catch {
      return `unknown error ${reverted.raw.slice(0, 10)}`;
    }
  }
  return reverted.reason ?? reverted.shortMessage;
}
