import { getParameterSet } from "@ciphershare/protocol/ckks/params";
import { ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";

/**
 * The parameter set rounds use (deep-v2: N=16384, 8192 slots), for the self-test and the ciphertext estimates. A
 * program's key bundle names its own set; the worker encrypts under that one.
 */
export const CKKS_PARAMETER_SET = getParameterSet(ROUND_PARAMETER_SET_ID);

/** Values per ciphertext: N/2 slots. */
export const CKKS_SLOTS = CKKS_PARAMETER_SET.slotCount;

/** How many ciphertexts an update of `length` values needs. */
export function chunkCount(length: number): number {
  return Math.ceil(length / CKKS_SLOTS);
}
