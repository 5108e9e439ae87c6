import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Modules the browser reuses to encrypt in-page: Uint8Array in and out, no Node built-ins. */
const ISOMORPHIC_MODULES = [
  "ckks/envelope.ts",
  "ckks/update.ts",
  "ckks/keys.ts",
  "ckks/context.ts",
  "ckks/params.ts",
  "ckks/seal.ts",
  "ckks/errors.ts",
  "hash/keccak.ts",
  "hash/checksum.ts",
  "formats/model-update.ts",
  "formats/npy.ts",
  "formats/safetensors.ts",
  "formats/json.ts",
  "fedavg/weights.ts",
  "fedavg/homomorphic.ts",
  "custodian/policy.ts",
  "threshold/seal-format.ts",
  "threshold/modular.ts",
  "threshold/modulus-chain.ts",
  "threshold/ntt.ts",
  "threshold/smudging.ts",
  "threshold/shamir.ts",
  "threshold/key-share.ts",
  "threshold/noise-bound.ts",
  "threshold/flooding.ts",
  "threshold/partial-decryption.ts",
  "threshold/combine.ts",
  "threshold/release-bounds.ts",
  "threshold/errors.ts",
  "storage/blob-store.ts",
  "storage/http-client.ts",
];

describe("isomorphic modules", () => {
  for (const module of ISOMORPHIC_MODULES) {
    it(`${module} uses no Node built-ins or Buffer`, () => {
      const source = readFileSync(join(__dirname, "../../../coprocessor/src", module), "utf8");
      expect(source).to.not.match(/from "node:|require\(|\bBuffer\b|from "(fs|path|http|crypto|os)"/);
    });
  }
});
