// The demo's settings, shared by `npm run demo`, the CLI's demo contributors (`contributor submit --behaviour`) and
// the browser test of a real round.
/**
 * The demo's data and local training. Least squares (the utility's own loss, docs/runtime.md), one short epoch, and
 * a Dirichlet(1) label skew (non-IID): with longer local training on stronger skew, client drift makes averaging in
 * the unchanged base model (the free rider) act as useful damping, so it earns a positive Shapley value. Measured
 * with plaintext Shapley, seeds 5–8 × 3 rounds × 8 clients and seeds 5–10 × 1 round × 4 clients: every honest
 * φ > 0 and the poisoned client and the free rider (claiming 3× its data) lowest and ≤ 0 in every round.
 */
export const DEMO_TRAINING = { loss: "squared", epochs: 1, learningRate: 0.01 } as const;
export const DEMO_LABEL_SKEW_ALPHA = 1;
export const DEMO_FREE_RIDER_CLAIM = 3;

/** Seed of the demo's MNIST split (test, validation and training rows, the Dirichlet partition). */
export const DEMO_DATA_SEED = 7;
