/**
 * CKKS parameters the contributor encrypts under. They must equal the program's key bundle, which
 * the Contribute page checks against the chain before encrypting.
 */
export const CKKS_PARAMS = {
  polyModulusDegree: 8192,
  coeffModulusBits: [60, 40, 40, 60],
  scale: 2 ** 40,
} as const;

/** Values per ciphertext: N/2 slots. */
export const CKKS_SLOTS = CKKS_PARAMS.polyModulusDegree / 2;

/** How many ciphertexts an update of `length` values needs. */
export function chunkCount(length: number): number {
  return Math.ceil(length / CKKS_SLOTS);
}
