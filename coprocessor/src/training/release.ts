// A training round's encrypted matrices as round outputs: the masked system (under the program key) and the model
// (U, then W, under the buyer's key) travel as Aggregate envelopes, so the custodian decrypts the masked system with
// the same policy and flooding as every output (`KeyCustodian.decryptOutput`), and the error bound the flooding is
// sized from follows from public facts only (d, c, the ciphertext and provider counts, α's range).
import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { buildEnvelope, EnvelopeKind, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import type { Hex } from "@ciphershare/protocol/hex";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import {
  freshVariance,
  keySwitchVariance,
  noiseParameters,
  roundingVariance,
  WHITE_NOISE_TAIL,
  type NoiseBound,
  type NoiseParameters,
} from "../threshold/noise-bound";
import type { OutputRelease } from "../threshold/release-bounds";
import { encryptedMatrix, type EncryptedMatrix } from "@ciphershare/protocol/training/encrypted-matrix";
import { unpackRows, type RowPackedLayout } from "@ciphershare/protocol/training/layout";
import type { TrainingShape } from "@ciphershare/protocol/training/statistics";
import { systemLayout } from "./keys";

/** The envelope's one tensor: every slot of every ciphertext of the row-packed matrix. */
function slotTensor(layout: RowPackedLayout) {
  return [{ name: "row-packed", shape: [layout.ciphertextCount, layout.slotCount] }];
}

/**
 * An encrypted matrix as an Aggregate envelope under `publicBundleHash` (the masked system, or the model). Outputs
 * carry the set's output scale (2^100 on deep-v2) while these matrices sit at the fresh scale (2^80): each chunk is
 * stored with its scale relabelled by 2^k and the envelope's value exponent k, so the released values (slots times
 * 2^k) are the matrix's entries; `loadMatrixEnvelope` undoes the relabelling.
 */
export async function matrixEnvelope(
  ctx: CkksContext,
  encrypted: EncryptedMatrix,
  publicBundleHash: Hex,
): Promise<Uint8Array> {
  const first = encrypted.ciphertexts[0];
  const scale = first.scale();
  const exponent = ctx.parameterSet.outputScaleBits - Math.round(Math.log2(scale));
  const chunks = encrypted.ciphertexts.map((ciphertext) => {
    ciphertext.setScale(scale * 2 ** exponent);
    try {
      return ctx.saveCiphertext(ciphertext);
    } finally {
      ciphertext.setScale(scale);
    }
  });
  return buildEnvelope(
    {
      kind: EnvelopeKind.Aggregate,
      parameterSet: ctx.parameterSet,
      publicBundleHash,
      scale: scale * 2 ** exponent,
      valueExponent: exponent,
      coeffModulusSize: first.coeffModulusSize(),
      ciphertextSize: 2,
      tensors: slotTensor(encrypted.layout),
    },
    chunks,
  );
}

/** Loads an envelope written by `matrixEnvelope` as an encrypted matrix of `layout` (checked against its header). */
export async function loadMatrixEnvelope(
  ctx: CkksContext,
  bytes: Uint8Array,
  layout: RowPackedLayout,
  publicBundleHash: Hex,
): Promise<EncryptedMatrix> {
  const envelope = await parseEnvelope(bytes, {
    kind: EnvelopeKind.Aggregate,
    parameterSetId: ctx.parameterSet.id,
    publicBundleHash,
  });
  if (envelope.chunks.length !== layout.ciphertextCount) {
    throw new InvalidInputError("The envelope does not hold the matrix's ciphertexts.", {
      details: `${envelope.chunks.length} chunks, the ${layout.rows}×${layout.cols} matrix needs ${layout.ciphertextCount}`,
    });
  }
  const { scale, coeffModulusSize, valueExponent } = envelope.header;
  return encryptedMatrix(
    layout,
    envelope.chunks.map((chunk) => {
      const ciphertext = ctx.loadCiphertext(chunk, { scale, coeffModulusSize });
      ciphertext.setScale(scale / 2 ** valueExponent);
      return ciphertext;
    }),
  );
}

/** The matrix in the released (decrypted, flooded) slots of a `matrixEnvelope`. */
export function matrixFromSlots(layout: RowPackedLayout, values: Float64Array, valueScale = 1): Matrix {
  if (values.length !== layout.ciphertextCount * layout.slotCount) {
    throw new InvalidInputError("The released values do not fill the matrix's ciphertexts.", {
      details: `${values.length} values, expected ${layout.ciphertextCount} × ${layout.slotCount}`,
    });
  }
  const slots = Array.from({ length: layout.ciphertextCount }, (_, k) =>
    Float64Array.from(values.subarray(k * layout.slotCount, (k + 1) * layout.slotCount), (v) => v * valueScale),
  );
  return unpackRows(layout, slots);
}

/**
 * Error bound of the masked system α·M·[Σ_k A_k + λnI | Σ_k B_k]·blockdiag(N, S) (products.ts), in ring units.
 * K·(ciphertexts) fresh ciphertexts summed; each product is a sum of T terms diag_t ⊙ rot_t(x) with the diagonal
 * encoded at the scale of the prime the rescale divides by, so one term maps a per-coefficient error e to at most
 * max|diag|·(e + key switch) (the encoding's coefficients are at most q·max|diag|), plus the rescale's rounding; the T
 * terms are added linearly (rotations of one ciphertext are not independent). max|diag| ≤ α < 2/n for the left
 * product (M orthogonal, α uniform in [1, 2)/n, n the public total row count) and 1 for the right (N, S orthogonal). Conservative by construction: the
 * linear sum over T overestimates the √T an honest run shows.
 */
export function maskedSystemNoiseBound(
  p: NoiseParameters,
  shape: TrainingShape,
  layout: RowPackedLayout,
  counts: { providers: number; totalRows: number },
): NoiseBound {
  const { providers, totalRows } = counts;
  if (!Number.isSafeInteger(providers) || providers < 1 || !Number.isSafeInteger(totalRows) || totalRows < 1) {
    throw new InvalidInputError("The masked system's bound needs at least one provider and one row.", {
      details: `${providers} providers, ${totalRows} rows`,
    });
  }
  const alphaBound = 2 / totalRows;
  const top = p.dataPrimes.length;
  const summed = Math.sqrt(providers * freshVariance(p));
  const rounding = Math.sqrt(roundingVariance(p));
  const leftTerms = layout.ciphertextCount * layout.ciphertextCount * (2 * layout.rowsPerCiphertext - 1);
  const left = leftTerms * alphaBound * (summed + Math.sqrt(keySwitchVariance(p, top))) + rounding;
  const rightTerms = 2 * (shape.features + shape.outputs) - 1;
  const right = rightTerms * (left + Math.sqrt(keySwitchVariance(p, top - 1))) + rounding;
  const expected = Math.sqrt(p.polyModulusDegree) * right;
  return { computation: "training", l2: WHITE_NOISE_TAIL * expected, expectedL2: expected, scale: p.scale };
}

/**
 * No row of a provider's data is public, so the masked system has no tight public range; this only catches a
 * forged decryption share or a broken computation (values far beyond any float a ridge system holds).
 */
export const MASKED_SYSTEM_MAX_ABS = 2 ** 40;

/** What the custodian needs to release a training round's masked system. */
export function maskedSystemRelease(
  ctx: CkksContext,
  shape: TrainingShape,
  counts: { providers: number; totalRows: number },
): OutputRelease {
  const layout = systemLayout(shape, ctx.slotCount);
  return {
    errorBound: maskedSystemNoiseBound(noiseParameters(ctx), shape, layout, counts),
    maxAbs: MASKED_SYSTEM_MAX_ABS,
  };
}
