/**
 * Child process of the determinism test: aggregates the envelopes in a directory with a fresh SEAL
 * instance and prints the keccak256 of the output envelope.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { loadPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { fedAvgEncrypted } from "@ciphershare/coprocessor/fedavg/homomorphic";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";

async function main(directory: string): Promise<void> {
  const job = JSON.parse(readFileSync(join(directory, "job.json"), "utf8")) as { counts: number[] };
  const bundleBytes = new Uint8Array(readFileSync(join(directory, "bundle.bin")));
  const ctx = await CkksContext.create("fast-v1");
  const bundle = await loadPublicBundle(ctx, bundleBytes);
  const clients = job.counts.map((sampleCount, i) => ({
    envelope: new Uint8Array(readFileSync(join(directory, `client-${i}.bin`))),
    sampleCount,
  }));
  const output = await fedAvgEncrypted(ctx, clients, { publicBundleHash: bundle.hash });
  process.stdout.write(`${await keccak256(output)}\n`);
  bundle.dispose();
  ctx.dispose();
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
