import { InvalidInputError } from "../errors/base";
import { assertModel, type ClientUpdate, type LinearModel } from "./model";

/**
 * Plaintext FedAvg with Flower's semantics (`aggregate` in flwr.server.strategy.aggregate): the average
 * of the client models weighted by their sample counts, Σ nᵢ·Wᵢ / Σ nᵢ. For accuracy reporting and tests;
 * the encrypted aggregation computes the same thing under CKKS.
 */
export function federatedAverage(updates: readonly ClientUpdate[]): LinearModel {
  if (updates.length === 0) throw new InvalidInputError("FedAvg needs at least one client update.", { details: "[]" });
  const { dimension, classes } = updates[0].model;
  let totalSamples = 0;
  updates.forEach((update, client) => {
    assertModel(update.model, dimension, classes, `model of client ${client}`);
    if (!Number.isSafeInteger(update.sampleCount) || update.sampleCount <= 0) {
      throw new InvalidInputError("A client's sample count must be a positive integer.", {
        details: `client ${client}: ${update.sampleCount}`,
      });
    }
    totalSamples += update.sampleCount;
  });
  const weights = new Float64Array(dimension * classes);
  for (const update of updates) {
    const share = update.sampleCount / totalSamples;
    for (let i = 0; i < weights.length; i++) weights[i] += share * update.model.weights[i];
  }
  return { weights, dimension, classes };
}
