import { EnvelopeError } from "@ciphershare/protocol/ckks/envelope";
import { initKeccak, keccak256Sync } from "@ciphershare/protocol/hashing/keccak";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { parseUsageBatch, type ParsedUsageBatch } from "./batch";

/** What the operator committed for one batch: its envelope's keccak256 and its public generation count. */
export interface UsageBatchCommitment {
  readonly hash: Hex;
  readonly generations: number;
}

/** Why the coprocessor left a committed batch out of the period. */
export type BatchProblem = "blob-missing" | "hash-mismatch" | "malformed" | "count-mismatch" | "duplicate";

export interface ExcludedBatch {
  /** Index of the batch among the period's commitments. */
  readonly index: number;
  readonly hash: Hex;
  readonly reason: BatchProblem;
  readonly details: string;
}

export interface VerifiedBatches {
  readonly included: readonly (ParsedUsageBatch & { readonly index: number; readonly hash: Hex })[];
  readonly excluded: readonly ExcludedBatch[];
}

/**
 * The coprocessor's check of a period's committed batches, before any homomorphic work: each must be stored
 * (blob-missing), hash to its commitment (hash-mismatch), be a UsageBatch of the program's set, bundle and layout
 * (malformed, with the envelope's problem), state the committed generation count (count-mismatch), and not repeat
 * an earlier batch of the period (duplicate: the same ciphertexts counted twice would double their usage). The
 * period goes on without the excluded ones.
 */
export async function verifyUsageBatches(
  candidates: readonly { commitment: UsageBatchCommitment; bytes: Uint8Array | undefined }[],
  expect: { parameterSetId: string; publicBundleHash: Hex; contributors: number; slotCount: number },
): Promise<VerifiedBatches> {
  await initKeccak();
  const included: (ParsedUsageBatch & { index: number; hash: Hex })[] = [];
  const excluded: ExcludedBatch[] = [];
  const seen = new Map<string, number>();
  for (const [index, { commitment, bytes }] of candidates.entries()) {
    const exclude = (reason: BatchProblem, details: string) =>
      excluded.push({ index, hash: commitment.hash, reason, details });
    const first = seen.get(commitment.hash.toLowerCase());
    if (first !== undefined) {
      exclude("duplicate", `same batch as commitment ${first}`);
      continue;
    }
    seen.set(commitment.hash.toLowerCase(), index);
    if (!bytes) {
      exclude("blob-missing", `no stored blob for ${commitment.hash}`);
      continue;
    }
    const actual = keccak256Sync(bytes);
    if (!sameHash(actual, commitment.hash)) {
      exclude("hash-mismatch", `stored bytes hash to ${actual}`);
      continue;
    }
    let parsed: ParsedUsageBatch;
    try {
      parsed = await parseUsageBatch(bytes, expect);
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      exclude("malformed", `${error.problem}: ${error.shortMessage}${error.details ? ` (${error.details})` : ""}`);
      continue;
    }
    if (parsed.generations !== commitment.generations) {
      exclude(
        "count-mismatch",
        `envelope holds ${parsed.generations} generations, commitment says ${commitment.generations}`,
      );
      continue;
    }
    included.push({ ...parsed, index, hash: commitment.hash });
  }
  return { included, excluded };
}
