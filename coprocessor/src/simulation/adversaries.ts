import { InvalidInputError } from "@ciphershare/protocol/errors";
import { cloneModel, type LinearModel } from "@ciphershare/protocol/records/model";
import { type ClientUpdate } from "./train";

/**
 * Label-flipping poisoning (Tolpegin et al. 2020): a client trains honestly on wrong labels.
 * - `shift`: label → (label + 1) mod c — every class is wrong, a strong attack.
 * - `mirror`: label → c − 1 − label — swaps pairs of digits (0↔9, 1↔8…).
 */
export type LabelFlip = "shift" | "mirror";

export function flipLabels(labels: Uint8Array, classes: number, flip: LabelFlip): Uint8Array {
  return labels.map((label) => (flip === "shift" ? (label + 1) % classes : classes - 1 - label));
}

/**
 * A free rider: submits the global model it received unchanged and claims `claimedSampleCount`
 * examples, hoping for a share of the rewards (and of FedAvg's weight) without training.
 */
export function freeRiderUpdate(base: LinearModel, claimedSampleCount: number): ClientUpdate {
  if (!Number.isSafeInteger(claimedSampleCount) || claimedSampleCount <= 0) {
    throw new InvalidInputError("A claimed sample count must be a positive integer.", {
      details: `claimedSampleCount: ${claimedSampleCount}`,
    });
  }
  return { model: cloneModel(base), sampleCount: claimedSampleCount };
}
