import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  assertEnvelopeExpectations,
  buildEnvelope,
  EnvelopeKind,
  parseEnvelope,
  type ParsedEnvelope,
} from "@ciphershare/protocol/ckks/envelope";
import { deleteAll, sealCall, type Plaintext } from "@ciphershare/protocol/ckks/seal";
import { loadEnvelopeChunk } from "@ciphershare/protocol/ckks/update";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Hex } from "@ciphershare/protocol/hex";
import { fedAvgWeights } from "./weights";

/** One client's encrypted update and the number of examples it trained on. */
export interface EncryptedClientUpdate {
  readonly envelope: Uint8Array | ParsedEnvelope;
  readonly sampleCount: number;
}

export interface HomomorphicFedAvgOptions {
  /** Every input must be encrypted under this bundle (the program's on-chain bundle hash). */
  readonly publicBundleHash: Hex;
  /** Called after each output chunk, for progress bars. */
  readonly onChunk?: (done: number, total: number) => void;
}

/**
 * FedAvg over encrypted updates, returning the aggregate envelope (kind Aggregate). For each chunk,
 * every client's ciphertext is multiplied by the constant plaintext w_i = m_i/Σm at the context scale
 * and added to an accumulator in client order; one rescale per chunk brings the scale back near the
 * set's output scale, and a set that names a release level gets the aggregate switched down to it. The order, the encodings and uncompressed serialization are fixed, so the same inputs
 * give the same output bytes in any process (auditors compare keccak256 hashes).
 *
 * Inputs are processed chunk by chunk, so WASM holds one accumulator, one loaded ciphertext and one
 * product at a time, reused throughout; only the serialized bytes live in JavaScript memory.
 */
export async function fedAvgEncrypted(
  ctx: CkksContext,
  clients: readonly EncryptedClientUpdate[],
  options: HomomorphicFedAvgOptions,
): Promise<Uint8Array> {
  const weights = fedAvgWeights(clients.map((client) => client.sampleCount));
  const expectations = {
    kind: EnvelopeKind.Contribution,
    parameterSetId: ctx.parameterSet.id,
    publicBundleHash: options.publicBundleHash,
  };
  const envelopes: ParsedEnvelope[] = [];
  for (const client of clients) {
    envelopes.push(
      client.envelope instanceof Uint8Array
        ? await parseEnvelope(client.envelope, expectations)
        : (assertEnvelopeExpectations(client.envelope.header, expectations), client.envelope),
    );
  }
  const { tensors, chunkCount } = envelopes[0].header;
  envelopes.forEach((envelope, i) => {
    if (!sameTensors(envelope.header.tensors, tensors)) {
      throw new InvalidInputError("All updates must have the same tensor names and shapes.", {
        details: `client ${i}: ${describeTensors(envelope.header.tensors)}; client 0: ${describeTensors(tensors)}`,
      });
    }
  });

  const active = envelopes.map((envelope, i) => ({ envelope, weight: weights[i] })).filter((c) => c.weight > 0);
  const weightPlaintexts: Plaintext[] = [];
  const accumulator = new ctx.seal.Ciphertext();
  const loaded = new ctx.seal.Ciphertext();
  const product = new ctx.seal.Ciphertext();
  try {
    for (const client of active) weightPlaintexts.push(ctx.encodeConstant(client.weight));
    const outputChunks: Uint8Array[] = [];
    const releasePrimes = ctx.parameterSet.outputCoeffModulusSize;
    let outputScale = 0;
    let outputLevel = 0;
    for (let chunk = 0; chunk < chunkCount; chunk++) {
      active.forEach((client, i) => {
        loadEnvelopeChunk(ctx, client.envelope, chunk, loaded);
        if (i === 0) {
          sealCall("weight a client's update", () =>
            ctx.evaluator.multiplyPlain(loaded, weightPlaintexts[i], accumulator),
          );
        } else {
          sealCall("weight a client's update", () => ctx.evaluator.multiplyPlain(loaded, weightPlaintexts[i], product));
          sealCall("add weighted updates", () => ctx.evaluator.addInplace(accumulator, product));
        }
      });
      sealCall("rescale the weighted sum", () => ctx.evaluator.rescaleToNextInplace(accumulator));
      if (releasePrimes !== undefined) ctx.switchCiphertextDownTo(accumulator, releasePrimes);
      outputScale = accumulator.scale();
      outputLevel = accumulator.coeffModulusSize();
      outputChunks.push(ctx.saveCiphertext(accumulator));
      options.onChunk?.(chunk + 1, chunkCount);
    }
    return await buildEnvelope(
      {
        kind: EnvelopeKind.Aggregate,
        parameterSet: ctx.parameterSet,
        publicBundleHash: envelopes[0].header.publicBundleHash,
        scale: outputScale,
        coeffModulusSize: outputLevel,
        ciphertextSize: 2,
        tensors,
      },
      outputChunks,
    );
  } finally {
    deleteAll(accumulator, loaded, product, ...weightPlaintexts);
  }
}

function sameTensors(a: ParsedEnvelope["header"]["tensors"], b: ParsedEnvelope["header"]["tensors"]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (t, i) =>
        t.name === b[i].name && t.shape.length === b[i].shape.length && t.shape.every((d, j) => d === b[i].shape[j]),
    )
  );
}

function describeTensors(tensors: ParsedEnvelope["header"]["tensors"]): string {
  const text = tensors.map((t) => `${t.name}[${t.shape.join("×")}]`).join(", ");
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
