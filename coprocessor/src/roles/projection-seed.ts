// The public seed of a round's projection check, from the chain alone: keccak256(the round's inputs hash ‖ the hash of
// the block that closed the round). The block rule is the training residual's (roles/training.ts): the closing block
// is mined after the last envelope was committed and revealed, so no contributor can grind the challenges, and the
// coprocessor and the auditor read the same two values.
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Hex } from "@ciphershare/protocol/hex";
import type { ChainReader } from "../chain/clients";
import { readRoundClosedBlock } from "../chain/events";
import { roundChallengeSeed } from "../shapley/encrypted/consistency";

export interface RoundProjectionSeed {
  readonly seed: Hex;
  readonly closingBlock: bigint;
}

/** The seed of round `roundId` for the included inputs whose hash is `inputs` (`round/inputs.ts#inputsHash`). */
export async function roundProjectionSeed(
  reader: ChainReader,
  deployment: Deployment,
  roundId: bigint,
  inputs: Hex,
): Promise<RoundProjectionSeed> {
  const closing = await readRoundClosedBlock(reader, deployment, roundId);
  if (closing === undefined) {
    throw new InvalidInputError("The round has no RoundClosed log: its projection challenge does not exist yet.", {
      details: `round ${roundId}`,
    });
  }
  return { seed: await roundChallengeSeed(inputs, closing.blockHash), closingBlock: closing.blockNumber };
}
