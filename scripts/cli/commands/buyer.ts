import type { Command } from "commander";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { buyerFiles, generateBuyerKeys } from "@ciphershare/coprocessor/roles/buyer";
import { DEFAULT_HOME, openBlobStore, openWorkspace, writeJsonFile } from "@ciphershare/coprocessor/roles/workspace";
import { assertTrainingShape } from "@ciphershare/coprocessor/training/keys";
import { parseInteger, reporter } from "../roleContext";

export const BUYER_PASSPHRASE_ENV = "CIPHERSHARE_BUYER_PASSPHRASE";

function passphrase(): string {
  const value = process.env[BUYER_PASSPHRASE_ENV];
  if (value === undefined || value.length < 8) {
    throw new InvalidInputError(`Set ${BUYER_PASSPHRASE_ENV} to the keystore passphrase (at least 8 characters).`);
  }
  return value;
}

/** `ciphershare buyer …`: the buyer of an encrypted-data training program (docs/training.md). */
export function register(program: Command): void {
  const buyer = program
    .command("buyer")
    .description("Buyer of a training program: its own CKKS keys; only it can decrypt the trained model.");
  buyer
    .command("keygen")
    .description(
      `Generate the buyer's CKKS keys for a d × c model; the secret key is sealed with $${BUYER_PASSPHRASE_ENV}, the public bundle published.`,
    )
    .option("--home <dir>", "workspace directory", DEFAULT_HOME)
    .requiredOption("--features <d>", "features d of the program's model")
    .requiredOption("--outputs <c>", "outputs c of the program's model")
    .option("--json", "print one JSON value as the last line of stdout")
    .action(async (options: { home: string; features: string; outputs: string; json?: boolean }) => {
      const shape = {
        features: parseInteger(options.features, "--features", 1),
        outputs: parseInteger(options.outputs, "--outputs", 1),
      };
      assertTrainingShape(shape, 8192);
      const secret = passphrase();
      const ws = openWorkspace(options.home);
      const files = buyerFiles(ws);
      const keys = await generateBuyerKeys(openBlobStore(ws), files.keystoreFile, secret, shape);
      writeJsonFile(files.bundlePointerFile, { publicBundleHash: keys.publicBundleHash, ...shape });
      reporter(options).result(
        { ...keys, ...shape, keystore: files.keystoreFile },
        `buyer bundle ${keys.publicBundleHash} (${keys.bundleBytes} bytes, ${keys.galoisSteps} rotation keys) published; keystore ${files.keystoreFile}`,
      );
    });
}
