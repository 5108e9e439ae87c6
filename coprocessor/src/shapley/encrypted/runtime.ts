import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { loadPublicBundle, type LoadedPublicBundle } from "@ciphershare/protocol/ckks/keys";
import { CkksError } from "@ciphershare/protocol/ckks/errors";
import { deleteAll, type Ciphertext } from "@ciphershare/protocol/ckks/seal";
import type { Hex } from "@ciphershare/protocol/hex";
import { projectionChallenge } from "./consistency";
import { EncryptedShapleyEvaluator, type EvaluatorSetup } from "./evaluator";
import { CONJUGATION_STEP } from "./layout";

/**
 * The messages a Shapley worker understands. The same runtime serves a worker thread and the calling
 * thread (workers = 0), so both paths run identical code.
 */
export type RuntimeRequest =
  | {
      type: "init";
      parameterSetId: string;
      bundle: Uint8Array;
      setup: EvaluatorSetup;
      /** Encode the projection's diagonals now (default) or on a first projection (clients submitted theirs). */
      prepareProjection?: boolean;
    }
  | { type: "models"; models: Uint8Array[] }
  | { type: "project"; index: number }
  | { type: "projections"; projections: Uint8Array[] }
  /** Packed terms (`layout.ts#packedTerm`: entries 2t and 2t + 1 each), summed into one partial ciphertext. */
  | { type: "terms"; terms: number[] }
  | { type: "finish"; partials: Uint8Array[] }
  | { type: "coalition"; members: number[]; sampleCounts: number[] }
  /** The consistency residual of submitted projections (fresh, one per index) under the challenges of `seed`. */
  | { type: "check"; seed: Hex; indices: number[]; submitted: Uint8Array[] }
  | { type: "dispose" };

export type RuntimeResponse = { type: "ok" } | { type: "ciphertext"; bytes: Uint8Array; milliseconds: number };

/** Holds one SEAL instance's state for the encrypted valuation: keys, evaluator, loaded ciphertexts. */
export class ShapleyRuntime {
  private ctx: CkksContext | undefined;
  private bundle: LoadedPublicBundle | undefined;
  private evaluator: EncryptedShapleyEvaluator | undefined;
  private setup: EvaluatorSetup | undefined;
  private models: Ciphertext[] = [];
  private projections: Ciphertext[] = [];

  async handle(request: RuntimeRequest): Promise<RuntimeResponse> {
    const started = Date.now();
    const done = (ciphertext: Ciphertext): RuntimeResponse => {
      try {
        return {
          type: "ciphertext",
          bytes: this.context().saveCiphertext(ciphertext),
          milliseconds: Date.now() - started,
        };
      } finally {
        ciphertext.delete();
      }
    };
    switch (request.type) {
      case "init": {
        this.dispose();
        this.ctx = await CkksContext.create(request.parameterSetId);
        this.bundle = await loadPublicBundle(this.ctx, request.bundle);
        if (!this.bundle.galoisKeys)
          throw new CkksError("The public bundle has no Galois keys; Shapley needs rotations.");
        // The packed Gram terms release only the real part of their sum (`finishScores`): that needs conjugation.
        if (request.setup.map && !this.bundle.galoisSteps.includes(CONJUGATION_STEP)) {
          throw new CkksError(
            "The public bundle has no conjugation key (Galois step 0); regenerate the Shapley keys.",
            {
              details: `steps ${this.bundle.galoisSteps.join(",")}`,
            },
          );
        }
        this.evaluator = new EncryptedShapleyEvaluator(
          this.ctx,
          {
            relinKeys: this.bundle.relinKeys,
            galoisKeys: this.bundle.galoisKeys,
            galoisSteps: this.bundle.galoisSteps,
          },
          request.setup,
        );
        this.setup = request.setup;
        // A valuation's worker projects: encode the diagonals with the keys, not inside its first projection.
        if (request.setup.map && request.prepareProjection !== false) this.evaluator.prepareProjection();
        return { type: "ok" };
      }
      case "models":
        deleteAll(...this.models);
        this.models = request.models.map((bytes) =>
          this.context().loadCiphertext(bytes, { coeffModulusSize: this.context().freshCoeffModulusSize }),
        );
        return { type: "ok" };
      case "projections":
        deleteAll(...this.projections);
        this.projections = request.projections.map((bytes) => this.context().loadCiphertext(bytes));
        return { type: "ok" };
      case "project":
        return done(this.evaluatorOrThrow().matvec(this.model(request.index)));
      case "terms": {
        const evaluator = this.evaluatorOrThrow();
        let sum: Ciphertext | undefined;
        try {
          for (const index of request.terms) {
            const product = evaluator.packedProduct(
              index,
              (i) => this.projection(i),
              (i) => this.model(i),
            );
            try {
              const term = evaluator.maskedPackedTerm(product, index);
              if (!sum) sum = term;
              else {
                this.context().evaluator.addInplace(sum, term);
                term.delete();
              }
            } finally {
              product.delete();
            }
          }
        } catch (error) {
          deleteAll(sum);
          throw error;
        }
        if (!sum) throw new CkksError("A Shapley term job had no terms.");
        return done(sum);
      }
      case "finish": {
        const evaluator = this.evaluatorOrThrow();
        const loaded = request.partials.map((bytes) => this.context().loadCiphertext(bytes));
        if (loaded.length === 0) throw new CkksError("A Shapley finish job had no partial sums.");
        try {
          const total = loaded[0].copy();
          try {
            for (const partial of loaded.slice(1)) this.context().evaluator.addInplace(total, partial);
            evaluator.finishScores(total);
          } catch (error) {
            total.delete();
            throw error;
          }
          return done(total);
        } finally {
          deleteAll(...loaded);
        }
      }
      case "coalition":
        return done(
          this.evaluatorOrThrow().coalitionUtility(
            request.members.map((i) => this.model(i)),
            request.sampleCounts,
          ),
        );
      case "check": {
        const ctx = this.context();
        const setup = this.setup!;
        if (request.submitted.length !== request.indices.length) {
          throw new CkksError("A consistency check needs one submitted projection per index.", {
            details: `${request.submitted.length} projections, ${request.indices.length} indices`,
          });
        }
        const projections = request.submitted.map((bytes) =>
          ctx.loadCiphertext(bytes, { coeffModulusSize: ctx.freshCoeffModulusSize, scale: ctx.scale }),
        );
        try {
          return done(
            this.evaluatorOrThrow().consistencyResidual(
              request.indices.map((index, k) => ({
                model: this.model(index),
                projection: projections[k],
                challenge: projectionChallenge(request.seed, index, setup.r, setup.xty.cols, ctx.slotCount),
              })),
            ),
          );
        } finally {
          deleteAll(...projections);
        }
      }
      case "dispose":
        this.dispose();
        return { type: "ok" };
    }
  }

  dispose(): void {
    deleteAll(...this.models, ...this.projections);
    this.models = [];
    this.projections = [];
    this.evaluator?.dispose();
    this.bundle?.dispose();
    this.ctx?.dispose();
    this.evaluator = this.bundle = this.ctx = this.setup = undefined;
  }

  private context(): CkksContext {
    if (!this.ctx) throw new CkksError("The Shapley runtime was used before init.");
    return this.ctx;
  }

  private evaluatorOrThrow(): EncryptedShapleyEvaluator {
    if (!this.evaluator) throw new CkksError("The Shapley runtime was used before init.");
    return this.evaluator;
  }

  private model(index: number): Ciphertext {
    const model = this.models[index];
    if (!model) throw new CkksError(`Encrypted model ${index} was not loaded into the Shapley runtime.`);
    return model;
  }

  private projection(index: number): Ciphertext {
    const projection = this.projections[index];
    if (!projection) throw new CkksError(`Projection z_${index} was not loaded into the Shapley runtime.`);
    return projection;
  }
}
