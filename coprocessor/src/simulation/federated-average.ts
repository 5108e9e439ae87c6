import { InvalidInputError } from "@ciphershare/protocol/errors";
import { fedAvgPlain } from "../fedavg/weights";
import { assertModel, type LinearModel } from "@ciphershare/protocol/records/model";
import { type ClientUpdate } from "./train";

/**
 * Plaintext FedAvg of linear models with Flower's semantics (Σ nᵢ·Wᵢ / Σ nᵢ), for accuracy reporting
 * and tests; the arithmetic is the coprocessor's float64 reference, so both agree to the bit.
 */
export function federatedAverage(updates: readonly ClientUpdate[]): LinearModel {
  if (updates.length === 0) throw new InvalidInputError("FedAvg needs at least one client update.", { details: "[]" });
  const { dimension, classes } = updates[0].model;
  updates.forEach((update, client) => {
    assertModel(update.model, dimension, classes, `model of client ${client}`);
    if (update.sampleCount <= 0) {
      throw new InvalidInputError("A client's sample count must be a positive integer.", {
        details: `client ${client}: ${update.sampleCount}`,
      });
    }
  });
  const weights = fedAvgPlain(
    updates.map((update) => update.model.weights),
    updates.map((update) => update.sampleCount),
  );
  return { weights, dimension, classes };
}
