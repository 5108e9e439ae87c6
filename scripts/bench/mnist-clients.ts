/**
 * MNIST-shaped valuation data for the Shapley benchmark (d = 784 pixels + bias, c = 10 one-hot), built
 * from the same deterministic federated-learning code the demo's contributors run.
 */
import { oneHotLabels, type Dataset } from "@ciphershare/protocol/records/dataset";
import {
  contributorUpdate,
  mnistFederatedSetup,
  type ContributorBehaviour,
} from "@ciphershare/coprocessor/simulation/federated";
import { MNIST_CLASSES, MNIST_DIMENSION } from "@ciphershare/coprocessor/simulation/mnist";
import { zeroModel } from "@ciphershare/protocol/records/model";
import { matrix, type Matrix } from "@ciphershare/protocol/linalg/matrix";

export const D = MNIST_DIMENSION;
export const C = MNIST_CLASSES;
export const VALIDATION_ROWS = 1000;
const SEED = 1234;

function setup(clients: number, alpha?: number) {
  return mnistFederatedSetup({ seed: SEED, clients, validationSize: VALIDATION_ROWS, alpha });
}

/** The validation rows as a dataset (for accuracy), the same rows `validationSet` turns into matrices. */
export function validationDataset(): Dataset {
  return setup(1).validation;
}

export function validationSet(): { x: Matrix; y: Matrix } {
  const { validation } = setup(1);
  return {
    x: matrix(validation.size, D, validation.features),
    y: matrix(validation.size, C, oneHotLabels(validation)),
  };
}

/**
 * Non-IID clients (Dirichlet label skew, concentration `alpha`, default 0.5) trained by least squares from
 * w0 = 0 for one round; every 7th client flips its labels (a poisoned update) and every 11th submits w0
 * unchanged (a free rider).
 */
export function clients(n: number, alpha?: number): { models: Matrix[]; sampleCounts: number[] } {
  const data = setup(n, alpha);
  const base = zeroModel(D, C);
  const behaviour = (i: number): ContributorBehaviour =>
    i % 11 === 10
      ? { kind: "free-rider" }
      : i % 7 === 6
        ? { kind: "label-flipping", flip: "shift" }
        : { kind: "honest" };
  const updates = Array.from({ length: n }, (_, i) =>
    contributorUpdate(data, i, behaviour(i), base, 1, SEED, { loss: "squared" }),
  );
  return {
    models: updates.map((update) => matrix(D, C, update.model.weights)),
    sampleCounts: updates.map((update) => update.sampleCount),
  };
}
