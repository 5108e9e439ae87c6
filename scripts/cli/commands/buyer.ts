import type { Command } from "commander";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { buyerFiles, generateBuyerKeys } from "@ciphershare/coprocessor/roles/buyer";
import {
  DEFAULT_HOME,
  openBlobStore,
  openWorkspace,
  readJsonFile,
  writeJsonFile,
} from "@ciphershare/coprocessor/roles/workspace";
import { decryptTrainingModel } from "@ciphershare/coprocessor/roles/training";
import { writeFileSync } from "node:fs";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import { isBytes32Hex, type Hex } from "@ciphershare/protocol/hex";
import { modelPointerFile } from "./training";
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

  buyer
    .command("decrypt-model")
    .description(
      `Decrypt the round's trained model W (d × c) with the buyer's key ($${BUYER_PASSPHRASE_ENV}) and write it as .npy.`,
    )
    .option("--home <dir>", "workspace directory", DEFAULT_HOME)
    .requiredOption("--round <id>", "round id")
    .requiredOption("--out <w.npy>", "where to write W, float64 [d, c]")
    .option("--model <hash>", "the model record's hash (default: the one `training unmask` left in the workspace)")
    .option("--json", "print one JSON value as the last line of stdout")
    .action(async (options: { home: string; round: string; out: string; model?: string; json?: boolean }) => {
      const roundId = BigInt(parseInteger(options.round, "--round", 1));
      const ws = openWorkspace(options.home);
      const files = buyerFiles(ws);
      const pointer = readJsonFile<{ features: number; outputs: number }>(
        files.bundlePointerFile,
        "buyer bundle",
        "run `ciphershare buyer keygen` first.",
      );
      const modelRecord =
        options.model ??
        readJsonFile<{ modelRecord: string }>(
          modelPointerFile(ws, roundId),
          "model record pointer",
          "the coprocessor publishes it with `ciphershare training unmask`; pass --model <hash>.",
        ).modelRecord;
      if (!isBytes32Hex(modelRecord)) {
        throw new InvalidInputError("--model must be 32 bytes of hex.", { details: modelRecord });
      }
      const shape = { features: pointer.features, outputs: pointer.outputs };
      const w = await decryptTrainingModel(
        openBlobStore(ws),
        modelRecord as Hex,
        files.keystoreFile,
        passphrase(),
        shape,
      );
      writeFileSync(options.out, serializeNpy(w.data, [w.rows, w.cols]));
      reporter(options).result(
        { round: roundId.toString(), out: options.out, rows: w.rows, cols: w.cols, modelRecord },
        `W (${w.rows} × ${w.cols}) decrypted to ${options.out}`,
      );
    });
}
