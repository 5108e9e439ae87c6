import { InvalidInputError } from "@ciphershare/protocol/errors";
import { selectRows, splitDataset, withLabels } from "./dataset";
import { type Dataset } from "@ciphershare/protocol/records/dataset";
import { flipLabels, freeRiderUpdate, type LabelFlip } from "./adversaries";
import { loadMnist } from "./mnist";
import { type ClientUpdate, trainLocalModel, type TrainingOptions } from "./train";
import type { LinearModel } from "@ciphershare/protocol/records/model";
import { dirichletPartition, labelSkew, type Partition } from "./partition";
import { SeededRandom, deriveSeed } from "../random/seeded-random";

export interface FederatedSetupOptions {
  /** Fixes the split and the partition: every process given the same options gets the same data. */
  seed: number;
  clients: number;
  /** Dirichlet concentration of the label skew (default 0.5: strongly non-IID). */
  alpha?: number;
  /** Rows held out to report accuracy (default 2000). */
  testSize?: number;
  /** Rows the valuation (Shapley utility) is computed on (default 1000). */
  validationSize?: number;
}

export interface FederatedSetup {
  test: Dataset;
  validation: Dataset;
  /** Each client's local data. */
  clientData: Dataset[];
  /** Row indices of each client into the training rows. */
  partition: Partition;
  /** Mean total-variation distance of client label distributions from the global one (0 = IID). */
  labelSkew: number;
}

/**
 * The demo's data, identical in every process: MNIST's 10 000 digits, seeded split into test,
 * validation and training rows, training rows cut among `clients` by a Dirichlet label skew.
 */
export function mnistFederatedSetup(options: FederatedSetupOptions): FederatedSetup {
  const testSize = options.testSize ?? 2000;
  const validationSize = options.validationSize ?? 1000;
  const data = loadMnist();
  const { train: rest, test } = splitDataset(data, testSize, new SeededRandom(deriveSeed(options.seed, 1)));
  const { train, test: validation } = splitDataset(rest, validationSize, new SeededRandom(deriveSeed(options.seed, 2)));
  const partition = dirichletPartition(
    train.labels,
    train.classes,
    { clients: options.clients, alpha: options.alpha ?? 0.5 },
    new SeededRandom(deriveSeed(options.seed, 3)),
  );
  return {
    test,
    validation,
    clientData: partition.map((rows) => selectRows(train, rows)),
    partition,
    labelSkew: labelSkew(train.labels, train.classes, partition),
  };
}

/** How a contributor behaves in the demo. */
export type ContributorBehaviour =
  | { kind: "honest" }
  | { kind: "label-flipping"; flip: LabelFlip }
  | { kind: "free-rider"; claimedSampleCount?: number };

/**
 * One contributor's update for one round: trains from the global model (honest), trains on flipped
 * labels (poisoned), or returns the global model unchanged claiming its data size (free rider). The
 * training order is seeded by (seed, round, client), so a restarted contributor reproduces its update.
 */
export function contributorUpdate(
  setup: FederatedSetup,
  client: number,
  behaviour: ContributorBehaviour,
  global: LinearModel,
  round: number,
  seed: number,
  training: TrainingOptions = {},
): ClientUpdate {
  const data = setup.clientData[client];
  if (data === undefined) {
    throw new InvalidInputError("No such client in this setup.", {
      details: `client ${client} of ${setup.clientData.length}`,
    });
  }
  const random = new SeededRandom(deriveSeed(seed, 4, round, client));
  switch (behaviour.kind) {
    case "honest":
      return trainLocalModel(data, global, training, random);
    case "label-flipping":
      return trainLocalModel(
        withLabels(data, flipLabels(data.labels, data.classes, behaviour.flip)),
        global,
        training,
        random,
      );
    case "free-rider":
      return freeRiderUpdate(global, behaviour.claimedSampleCount ?? data.size);
  }
}
