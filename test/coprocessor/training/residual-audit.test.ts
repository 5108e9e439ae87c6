import { expect } from "chai";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import type { Hex } from "@ciphershare/protocol/hex";
import { residualFlagsCheck } from "@ciphershare/coprocessor/roles/training-auditor";
import type { TrainingReleaseRecord, TrainingRoundRecord } from "@ciphershare/coprocessor/roles/training";
import { noiseParameters } from "@ciphershare/coprocessor/threshold/noise-bound";
import { releasedNoiseStd, smudgingSigma } from "@ciphershare/coprocessor/threshold/flooding";
import { TRAINING_PARAMETER_SET } from "@ciphershare/coprocessor/training/pipeline";
import {
  flaggedResiduals,
  residualErrorBound,
  residualRelease,
  residualTolerance,
} from "@ciphershare/coprocessor/training/residual-check";

const hash = (byte: string) => `0x${byte.repeat(32)}` as Hex;

// The auditor recomputes the residual check's flooding σ and tolerances from public facts (n_k, λ, C) and checks the
// custodian's flags against the released ρ: a custodian that spares a cheating provider, flags an honest one, or
// inflates the tolerance is caught.
describe("training: the auditor's residual-check against a custodian's release", function () {
  const shape = { features: 8, outputs: 3 };
  const lambda = 0.01;
  const C = 4;
  const rows = [60, 80, 70];
  const envelope = hash("ab");
  const record = {
    included: rows.map((r, index) => ({ index, rows: r })),
    valuation: { residuals: { envelope } },
  } as unknown as TrainingRoundRecord;
  let honest: NonNullable<TrainingReleaseRecord["valuation"]>;

  before(async function () {
    const ctx = await CkksContext.create(TRAINING_PARAMETER_SET);
    try {
      const p = noiseParameters(ctx);
      const inputs = rows.map((r) => ({ rows: r, lambda, modelNormBound: C }));
      const release = residualRelease(ctx, shape, inputs);
      const sigma = releasedNoiseStd(
        smudgingSigma(release.errorBound.l2),
        1,
        p.polyModulusDegree,
        release.errorBound.scale,
      );
      const tolerance = inputs.map((i) => residualTolerance(residualErrorBound(shape, i, p), sigma, ctx.slotCount));
      const rho = [1e-5, -2e-5, 3.5];
      honest = {
        scores: hash("cc"),
        providers: [],
        phi: [0.1, 0.2, 0.3],
        floodingSigma: 1e-9,
        residuals: {
          envelope,
          rho,
          tolerance,
          floodingSigma: sigma,
          flagged: flaggedResiduals(rho, tolerance).map((position) => ({ position, reason: "residual", details: "" })),
        },
      };
    } finally {
      ctx.dispose();
    }
  });

  it("passes the custodian's honest flags and catches spared, false and inflated ones", async function () {
    expect(honest.residuals.flagged.map((f) => f.position)).to.deep.equal([2]);
    expect((await residualFlagsCheck(record, honest, lambda, C, shape))[0]).to.equal(true);
    const spared = { ...honest, residuals: { ...honest.residuals, flagged: [] } };
    expect(await residualFlagsCheck(record, spared, lambda, C, shape)).to.have.property("0", false);
    const framed = {
      ...honest,
      residuals: {
        ...honest.residuals,
        flagged: [0, 2].map((position) => ({ position, reason: "residual" as const, details: "" })),
      },
    };
    expect(await residualFlagsCheck(record, framed, lambda, C, shape)).to.have.property("0", false);
    const inflated = { ...honest, residuals: { ...honest.residuals, tolerance: [10, 10, 10], flagged: [] } };
    expect((await residualFlagsCheck(record, inflated, lambda, C, shape))[1]).to.match(/not the public/);
    const wider = { ...honest, residuals: { ...honest.residuals, floodingSigma: 1e3 } };
    expect((await residualFlagsCheck(record, wider, lambda, C, shape))[1]).to.match(/flooding σ/);
    const other = { ...honest, residuals: { ...honest.residuals, envelope: hash("ef") } };
    expect((await residualFlagsCheck(record, other, lambda, C, shape))[1]).to.match(/another residual envelope/);
  });
});
