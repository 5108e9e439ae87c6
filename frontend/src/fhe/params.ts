import { DEFAULT_PARAMETER_SET_ID, getParameterSet } from "@ciphershare/protocol/ckks/params";

/**
 * The coprocessor's parameter set for model updates (fast-v1: N=8192, [60, 40, 40, 60], scale 2^40).
 * A program's key bundle names its set; the worker refuses a bundle for another one.
 */
export const CKKS_PARAMETER_SET = getParameterSet(DEFAULT_PARAMETER_SET_ID);

/** Values per ciphertext: N/2 slots. */
export const CKKS_SLOTS = CKKS_PARAMETER_SET.slotCount;

/** How many ciphertexts an update of `length` values needs. */
export function chunkCount(length: number): number {
  return Math.ceil(length / CKKS_SLOTS);
}
