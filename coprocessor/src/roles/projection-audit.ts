// The auditor's side of a round's projection check: it re-derives the seed (`projection-seed.ts`) and re-runs
// `computeCheckedScores` on the same inputs, answering each residual release from the published releases instead of a
// custodian — after checking that the residual envelope it recomputed is, byte for byte (by keccak256), the one that
// was released, in the same order. Then the exclusions and Enc(φ) it gets are the ones the coprocessor had to get.
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import type { RoundProjectionCheck } from "./computation";

/** A residual envelope as released: its keccak256, the flooded value and the flooding's standard deviation. */
export interface PublishedResidual {
  readonly envelope: Hex;
  readonly value: number;
  readonly floodingSigma: number;
}

/** The recomputed check asked for a residual that was not released (or not in this order). */
export class ProjectionAuditError extends CipherShareError {
  override name = "ProjectionAuditError";
}

/** A `RoundProjectionCheck` that replays `published` in order, refusing any recomputed envelope that differs. */
export function replayedCheck(seed: Hex, published: readonly PublishedResidual[]): RoundProjectionCheck {
  let next = 0;
  return {
    seed,
    release: async (envelope) => {
      const hash = await envelopeCommitment(envelope);
      const expected = published[next];
      if (expected === undefined || !sameHash(expected.envelope, hash)) {
        throw new ProjectionAuditError("The recomputed projection residual is not the one released.", {
          details: `residual ${next}: recomputed ${hash}, released ${expected?.envelope ?? "nothing"}`,
        });
      }
      next++;
      return { value: expected.value, floodingSigma: expected.floodingSigma };
    },
  };
}
