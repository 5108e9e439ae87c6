import { InvalidInputError } from "@ciphershare/protocol/errors";
import { oneHotLabels, type Dataset } from "@ciphershare/protocol/records/dataset";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import type { CoefficientMap } from "../shapley/coefficients";
import { validationKernel, type ValidationKernel } from "../shapley/gram";
import { coefficientMapFor } from "../shapley/valuation";
import { largestRemainderShares } from "../payouts/shares";
import { valueContributions, type Valuation, type ValuationOptions } from "../shapley/valuation";
import { regularized, ridgeFromStatistics } from "./ridge";
import {
  assertStatistics,
  type ProviderStatistics,
  type TrainingShape,
} from "@ciphershare/protocol/training/statistics";

/**
 * The valuation proxy of a training round: each provider's own ridge model W_k = (A_k + λn_kI)⁻¹B_k, valued by
 * the federated rounds' exact Shapley machinery (coalition models are the n_k-weighted averages of the W_k, the
 * utility minus the validation set's mean squared error). Exact Shapley of the pooled ridge model would need a
 * solve per coalition (2^n of them, each under encryption): the proxy costs one Shapley valuation.
 */
export function localModels(stats: readonly ProviderStatistics[], lambda: number, shape: TrainingShape): Matrix[] {
  return stats.map((s) => {
    assertStatistics(s, shape);
    return ridgeFromStatistics(s, lambda);
  });
}

export interface ProviderValuation {
  readonly valuation: Valuation;
  /** Royalty of each provider from the pool: largest remainder over max(φ, 0); φ ≤ 0 earns nothing. */
  readonly shares: bigint[];
  /** Providers with φ ≤ 0. */
  readonly flagged: number[];
}

/** φ of each provider's local model against a validation set, and its share of the buyer's payment. */
export async function valueProviders(
  models: readonly Matrix[],
  rowCounts: readonly number[],
  validation: { x: Matrix; y: Matrix },
  pool: bigint,
  options: ValuationOptions = {},
): Promise<ProviderValuation> {
  if (models.length === 0) throw new InvalidInputError("Valuing providers needs at least one model.");
  const { rows, cols } = models[0];
  const valuation = await valueContributions(
    {
      base: { rows, cols, data: new Float64Array(rows * cols) },
      models,
      sampleCounts: rowCounts,
      x: validation.x,
      y: validation.y,
    },
    options,
  );
  const { shares, flagged } = largestRemainderShares(pool, valuation.phi);
  return { valuation, shares, flagged };
}

/**
 * ‖(A_k + λn_kI)·W_k − B_k‖_F / ‖B_k‖_F: zero (to rounding) when the submitted local model is the ridge model of
 * the provider's own statistics. A model trained on other data, or made up, shows a residual of order one.
 */
export function localModelResidual(stats: ProviderStatistics, w: Matrix, lambda: number): number {
  const p = regularized(stats.a, lambda, stats.rows);
  if (w.rows !== p.cols || w.cols !== stats.b.cols) {
    throw new InvalidInputError("The local model must be d×c.", {
      details: `${w.rows}×${w.cols}, expected ${p.cols}×${stats.b.cols}`,
    });
  }
  let residual = 0;
  let norm = 0;
  for (let i = 0; i < p.rows; i++) {
    for (let k = 0; k < w.cols; k++) {
      let value = -stats.b.data[i * w.cols + k];
      for (let j = 0; j < p.cols; j++) value += p.data[i * p.cols + j] * w.data[j * w.cols + k];
      residual += value * value;
      norm += stats.b.data[i * w.cols + k] ** 2;
    }
  }
  return Math.sqrt(residual) / Math.sqrt(norm || 1);
}

/** A training program's validation set (the `CSD1` blob its terms name) as X (n_v × d) and one-hot Y (n_v × c). */
export function trainingValidation(dataset: Dataset, shape: TrainingShape): { x: Matrix; y: Matrix } {
  if (dataset.dimension !== shape.features || dataset.classes !== shape.outputs || dataset.size < 1) {
    throw new InvalidInputError("The validation set is not d features × c classes of the program.", {
      details: `${dataset.size} rows × ${dataset.dimension} features, ${dataset.classes} classes; program ${shape.features} × ${shape.outputs}`,
    });
  }
  return {
    x: { rows: dataset.size, cols: dataset.features.length / dataset.size, data: dataset.features },
    y: { rows: dataset.size, cols: dataset.classes, data: oneHotLabels(dataset) },
  };
}

/**
 * What the coprocessor (computing Enc(φ)) and the custodian (sizing φ's flooding) both derive from public data: the
 * validation kernel against the zero base model and the exact Shapley coefficient map of the included row counts.
 */
export function trainingValuationSetup(
  dataset: Dataset,
  shape: TrainingShape,
  rowCounts: readonly number[],
): { kernel: ValidationKernel; map: CoefficientMap } {
  const { x, y } = trainingValidation(dataset, shape);
  const kernel = validationKernel(x, y, {
    rows: shape.features,
    cols: shape.outputs,
    data: new Float64Array(x.cols * y.cols),
  });
  return { kernel, map: coefficientMapFor(rowCounts, kernel, { method: "exact" }) };
}
