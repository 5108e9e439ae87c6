// Recomputing a publication: from the committed inputs the standing publication included (each fetched from its
// reveal's URI within the round's limits, checked like the coprocessor checks it), re-run the round's deterministic
// computation (`computation.ts`, the code the coprocessor and the auditor run) and compare the output hashes with
// the published ones byte for byte. The custodian does this before it decrypts anything: a publication whose outputs
// it cannot reproduce is challenged, never decrypted.
import { EXCLUSION_REASON_NAMES, ExclusionReason } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { decodeDataset } from "@ciphershare/protocol/records/dataset";
import { decodeModel } from "@ciphershare/protocol/records/model";
import { decodeRoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { roundConfig } from "@ciphershare/protocol/round/config";
import { includedContributions, inputsHash } from "@ciphershare/protocol/round/inputs";
import { zeroHash } from "viem";
import type { ChainReader } from "../chain/clients";
import { readProgram, readRound } from "../chain/contracts";
import { readCommitments, readReasons } from "../chain/events";
import type { BlobStore, StoreForUri } from "../storage/blob-store";
import { readBundleBytes } from "../storage/key-bundle";
import { computeAggregate, computeScores } from "./computation";
import { checkContribution, contributionFetchLimits, inputRules, type InputVerdict } from "./coprocessor";

/** An input the publication included could not be fetched: nothing can be concluded yet (try again later). */
export class InputsUnavailableError extends CipherShareError {
  override name = "InputsUnavailableError";
}

export interface RecomputeOptions {
  readonly deployment: Deployment;
  readonly reader: ChainReader;
  /** The program's store (manifest, base model, validation set, bundle; copies of inputs). */
  readonly store: BlobStore;
  /** The store a reveal's URI names. */
  readonly storeForUri: StoreForUri;
  readonly fetchTimeoutMs?: number;
  readonly workers?: number;
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

/** What recomputing the standing publication of a round found. */
export interface PublicationVerdict {
  readonly round: number;
  readonly publication: number;
  /** True only when both recomputed output hashes equal the published ones. */
  readonly matches: boolean;
  readonly published: { readonly aggregate: Hex; readonly scores: Hex; readonly inputs: Hex };
  /** Absent when an included input is itself invalid (nothing to recompute from). */
  readonly recomputed?: { readonly aggregate: Hex; readonly scores?: Hex; readonly inputs: Hex };
  readonly detail: string;
}

/**
 * Recomputes the outputs of the standing publication of round `roundId` from its included inputs and compares them
 * with the published hashes. An included input that is invalid (wrong hash, not a contribution of the round) makes
 * the publication a mismatch; one that cannot be fetched at all throws `InputsUnavailableError`. Below the program's
 * minimum crowd no output is computed, and the published hashes must be zero.
 */
export async function recomputePublication(options: RecomputeOptions, roundId: bigint): Promise<PublicationVerdict> {
  const { deployment, reader, store } = options;
  const round = await readRound(deployment, reader, roundId);
  if (round.publication === 0) {
    throw new CipherShareError("The round has no standing publication to recompute.", {
      details: `round ${roundId}`,
    });
  }
  const base = {
    round: Number(roundId),
    publication: round.publication,
    published: { aggregate: round.aggregateHash, scores: round.scoresHash, inputs: round.inputsHash },
  };
  const program = await readProgram(deployment, reader, round.programId);
  const config = roundConfig(decodeRoundManifest(await store.get(round.manifestHash)), program.valuationMethod);
  const rules = inputRules(config, program.publicKeyHash);
  const commitments = await readCommitments(reader, deployment, roundId);
  const reasons = await readReasons(reader, deployment, roundId, round.publication, commitments.length);
  const included = includedContributions(commitments, reasons);
  const committedInputs = await inputsHash(included);

  const limits = contributionFetchLimits(rules, options.fetchTimeoutMs);
  const envelopes: Uint8Array[] = [];
  for (const c of included) {
    let verdict: InputVerdict = await checkContribution(options.storeForUri(c.uri, limits), c, rules);
    // The contributor's store may be gone; the program's store may hold the copy the coprocessor kept.
    if (!verdict.included && verdict.reason === ExclusionReason.BlobMissing)
      verdict = await checkContribution(store, c, rules);
    if (!verdict.included) {
      if (verdict.reason === ExclusionReason.BlobMissing) {
        throw new InputsUnavailableError("An input the publication included cannot be fetched.", {
          details: `round ${roundId} #${c.index} ${c.ciphertextHash} at ${c.uri}: ${verdict.detail}`,
        });
      }
      return {
        ...base,
        matches: false,
        detail: `included input #${c.index} ${c.contributor} is ${EXCLUSION_REASON_NAMES[verdict.reason]}: ${verdict.detail}`,
      };
    }
    envelopes.push(verdict.envelope);
  }

  if (included.length < Math.max(1, round.minContributors)) {
    const matches = BigInt(round.aggregateHash) === 0n && BigInt(round.scoresHash) === 0n;
    return {
      ...base,
      matches,
      recomputed: { aggregate: zeroHash, scores: zeroHash, inputs: committedInputs },
      detail: `${included.length} included, below the minimum of ${round.minContributors}: no outputs${matches ? "" : ", yet outputs were published"}`,
    };
  }

  const ctx = await CkksContext.create(config.parameterSet);
  try {
    const input = {
      ctx,
      bundleBytes: await readBundleBytes(store, program.publicKeyHash),
      bundleHash: program.publicKeyHash,
      inputs: envelopes.map((envelope, k) => ({ envelope, sampleCount: included[k].sampleCount })),
      validation: decodeDataset(await store.get(config.validation)),
      base: decodeModel(await store.get(config.baseModel)),
      workers: options.workers,
      onProgress: options.onProgress,
    };
    const aggregate = await keccak256(await computeAggregate(input));
    const aggregateOk = sameHash(aggregate, round.aggregateHash);
    if (!aggregateOk) {
      // One mismatch settles it: the (minute-long) Shapley recomputation is not needed.
      return {
        ...base,
        matches: false,
        recomputed: { aggregate, inputs: committedInputs },
        detail: `aggregate: published ${round.aggregateHash}, recomputed ${aggregate} (scores not recomputed)`,
      };
    }
    const scores = await keccak256(await computeScores(input));
    const scoresOk = sameHash(scores, round.scoresHash);
    return {
      ...base,
      matches: scoresOk,
      recomputed: { aggregate, scores, inputs: committedInputs },
      detail: scoresOk
        ? `both outputs recomputed byte for byte from ${included.length} included inputs`
        : `scores: published ${round.scoresHash}, recomputed ${scores}`,
    };
  } finally {
    ctx.dispose();
  }
}
