import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import {
  buildEnvelope,
  EnvelopeError,
  EnvelopeKind,
  parseEnvelope,
  type ParsedEnvelope,
} from "@ciphershare/protocol/ckks/envelope";
import type { EncryptionKey } from "@ciphershare/protocol/ckks/keys";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Hex } from "@ciphershare/protocol/hex";
import { attributionProblem } from "./attribution";
import { packGenerations, usageLayout, type UsageLayout } from "./layout";
import type { UsageRules } from "./rules";

/** The one tensor of a usage batch: [generations, stride], one generation's padded vector per row. */
export const USAGE_BATCH_TENSOR = "usage";

/**
 * Encrypts a batch of already screened attribution vectors under the program's public key into one UsageBatch
 * envelope (the operator's step): the vectors are packed `generationsPerCiphertext` to a ciphertext, and the
 * manifest's first dimension is the batch's public generation count. Every vector is checked again here (a
 * caller that skipped `screenAttributions` gets an error naming the generation, never a silent encryption).
 */
export async function encryptUsageBatch(
  ctx: CkksContext,
  key: Pick<EncryptionKey, "parameterSetId" | "hash" | "encryptor">,
  rules: UsageRules,
  vectors: readonly ArrayLike<number>[],
): Promise<Uint8Array> {
  if (key.parameterSetId !== ctx.parameterSet.id) {
    throw new InvalidInputError("The program key is for another parameter set than the context.", {
      details: `key ${key.parameterSetId}, context ${ctx.parameterSet.id}`,
    });
  }
  if (vectors.length === 0) throw new InvalidInputError("A usage batch needs at least one generation.");
  vectors.forEach((vector, g) => {
    const problem = attributionProblem(vector, rules);
    if (problem) {
      throw new InvalidInputError(`Generation ${g} of the batch is invalid (${problem.reason}).`, {
        details: problem.details,
      });
    }
  });
  const layout = usageLayout(rules.contributors, ctx.slotCount);
  const packed = packGenerations(layout, vectors);
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < packed.length; start += ctx.slotCount) {
    const ciphertext = ctx.encrypt(packed.subarray(start, start + ctx.slotCount), key.encryptor);
    try {
      chunks.push(ctx.saveCiphertext(ciphertext));
    } finally {
      ciphertext.delete();
    }
  }
  return buildEnvelope(
    {
      kind: EnvelopeKind.UsageBatch,
      parameterSet: ctx.parameterSet,
      publicBundleHash: key.hash,
      scale: ctx.scale,
      coeffModulusSize: ctx.freshCoeffModulusSize,
      ciphertextSize: 2,
      tensors: [{ name: USAGE_BATCH_TENSOR, shape: [vectors.length, layout.stride] }],
    },
    chunks,
  );
}

/** A batch envelope checked against the program: its kind, set, bundle and layout. */
export interface ParsedUsageBatch {
  readonly envelope: ParsedEnvelope;
  /** The batch's generation count as its manifest states it (what the operator commits publicly). */
  readonly generations: number;
  readonly layout: UsageLayout;
}

/**
 * Parses a usage batch and insists it is a UsageBatch under the program's bundle and parameter set whose one
 * tensor is [generations, stride] for the program's contributor count. Throws an `EnvelopeError` naming the
 * problem (`bad-manifest` for a layout that is not the program's).
 */
export async function parseUsageBatch(
  bytes: Uint8Array,
  expect: { parameterSetId: string; publicBundleHash: Hex; contributors: number; slotCount: number },
): Promise<ParsedUsageBatch> {
  const envelope = await parseEnvelope(bytes, {
    kind: EnvelopeKind.UsageBatch,
    parameterSetId: expect.parameterSetId,
    publicBundleHash: expect.publicBundleHash,
  });
  const layout = usageLayout(expect.contributors, expect.slotCount);
  const [tensor, ...others] = envelope.header.tensors;
  if (
    others.length > 0 ||
    tensor.name !== USAGE_BATCH_TENSOR ||
    tensor.shape.length !== 2 ||
    tensor.shape[1] !== layout.stride ||
    tensor.shape[0] < 1
  ) {
    throw new EnvelopeError("bad-manifest", "not a usage batch of this program's contributors.", {
      details: `${envelope.header.tensors.map((t) => `${t.name}[${t.shape.join("×")}]`).join(", ")}; expected ${USAGE_BATCH_TENSOR}[g×${layout.stride}]`,
    });
  }
  return { envelope, generations: tensor.shape[0], layout };
}
