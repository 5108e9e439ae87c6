import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  assertEnvelopeExpectations,
  buildEnvelope,
  EnvelopeKind,
  parseEnvelope,
  type ParsedEnvelope,
} from "@ciphershare/protocol/ckks/envelope";
import { deleteAll, sealCall, type Ciphertext, type Plaintext } from "@ciphershare/protocol/ckks/seal";
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
  const { envelopes, weights, chunkCount } = await fedAvgInputs(ctx, clients, options.publicBundleHash);
  const active = envelopes.map((envelope, i) => ({ envelope, weight: weights[i] })).filter((c) => c.weight > 0);
  const accumulator = new ctx.seal.Ciphertext();
  try {
    const outputChunks: Uint8Array[] = [];
    let output = { scale: 0, level: 0 };
    for (let chunk = 0; chunk < chunkCount; chunk++) {
      weightedSumInto(ctx, active, chunk, accumulator);
      output = finishAggregateChunk(ctx, accumulator);
      outputChunks.push(ctx.saveCiphertext(accumulator));
      options.onChunk?.(chunk + 1, chunkCount);
    }
    return await aggregateEnvelope(ctx, envelopes[0], output, outputChunks);
  } finally {
    deleteAll(accumulator);
  }
}

/** FedAvg's validated inputs: every envelope parsed and checked against the round, the weights, the shared layout. */
export interface FedAvgInputs {
  readonly envelopes: ParsedEnvelope[];
  readonly weights: Float64Array;
  readonly tensors: ParsedEnvelope["header"]["tensors"];
  readonly chunkCount: number;
}

/** Parses and checks FedAvg's inputs: contributions under `publicBundleHash`, all with the same tensors. */
export async function fedAvgInputs(
  ctx: CkksContext,
  clients: readonly EncryptedClientUpdate[],
  publicBundleHash: Hex,
): Promise<FedAvgInputs> {
  const weights = fedAvgWeights(clients.map((client) => client.sampleCount));
  const expectations = {
    kind: EnvelopeKind.Contribution,
    parameterSetId: ctx.parameterSet.id,
    publicBundleHash,
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
  return { envelopes, weights, tensors, chunkCount };
}

/**
 * Σ weight_i · chunk `chunk` of client i, in the given order, into `into` (at the context scale squared, not yet
 * rescaled). Every term is multiplied by the same constant encoding and ciphertext additions are exact modular
 * additions, so partial sums over consecutive client ranges added in order give the same bytes as one sum over all
 * clients: FedAvg can be split into jobs (coprocessor/src/queue/fedavg.ts). Weights must be positive (SEAL refuses
 * an all-zero plaintext).
 */
export function weightedSumInto(
  ctx: CkksContext,
  clients: readonly { readonly envelope: ParsedEnvelope; readonly weight: number }[],
  chunk: number,
  into: Ciphertext,
): void {
  if (clients.length === 0) throw new InvalidInputError("A weighted sum needs at least one client.");
  const loaded = new ctx.seal.Ciphertext();
  const product = new ctx.seal.Ciphertext();
  const weightPlaintexts: Plaintext[] = [];
  try {
    for (const client of clients) {
      if (!(client.weight > 0)) {
        throw new InvalidInputError("FedAvg weights in a sum must be positive.", { details: String(client.weight) });
      }
      weightPlaintexts.push(ctx.encodeConstant(client.weight));
    }
    clients.forEach((client, i) => {
      loadEnvelopeChunk(ctx, client.envelope, chunk, loaded);
      if (i === 0) {
        sealCall("weight a client's update", () => ctx.evaluator.multiplyPlain(loaded, weightPlaintexts[i], into));
      } else {
        sealCall("weight a client's update", () => ctx.evaluator.multiplyPlain(loaded, weightPlaintexts[i], product));
        sealCall("add weighted updates", () => ctx.evaluator.addInplace(into, product));
      }
    });
  } finally {
    deleteAll(loaded, product, ...weightPlaintexts);
  }
}

/**
 * The last step of an output chunk, in place: one rescale brings the weighted sum back near the set's output scale,
 * and a set that names a release level gets it switched down to it. Returns the chunk's scale and level.
 */
export function finishAggregateChunk(ctx: CkksContext, sum: Ciphertext): { scale: number; level: number } {
  sealCall("rescale the weighted sum", () => ctx.evaluator.rescaleToNextInplace(sum));
  const releasePrimes = ctx.parameterSet.outputCoeffModulusSize;
  if (releasePrimes !== undefined) ctx.switchCiphertextDownTo(sum, releasePrimes);
  return { scale: sum.scale(), level: sum.coeffModulusSize() };
}

/** The aggregate envelope (kind Aggregate) of FedAvg's output chunks, in the first input's layout and bundle. */
export async function aggregateEnvelope(
  ctx: CkksContext,
  first: ParsedEnvelope,
  output: { scale: number; level: number },
  chunks: readonly Uint8Array[],
): Promise<Uint8Array> {
  return buildEnvelope(
    {
      kind: EnvelopeKind.Aggregate,
      parameterSet: ctx.parameterSet,
      publicBundleHash: first.header.publicBundleHash,
      scale: output.scale,
      coeffModulusSize: output.level,
      ciphertextSize: 2,
      tensors: first.header.tensors,
    },
    [...chunks],
  );
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
