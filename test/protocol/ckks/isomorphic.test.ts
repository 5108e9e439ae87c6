import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(__dirname, "..", "..", "..");

/** Every module of the protocol package: the browser runs them as they are (the web worker encrypts with them). */
function protocolModules(directory = join(ROOT, "protocol", "src")): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? protocolModules(join(directory, entry.name))
      : entry.name.endsWith(".ts")
        ? [relative(ROOT, join(directory, entry.name))]
        : [],
  );
}

/** Coprocessor modules that stay browser-safe although the package as a whole is Node's. */
const ISOMORPHIC_COPROCESSOR_MODULES = [
  "coprocessor/src/fedavg/weights.ts",
  "coprocessor/src/fedavg/homomorphic.ts",
  "coprocessor/src/keys/policy.ts",
  ...[
    "seal-format",
    "modular",
    "modulus-chain",
    "ntt",
    "smudging",
    "shamir",
    "key-share",
    "noise-bound",
    "flooding",
    "partial-decryption",
    "combine",
    "release-bounds",
    "errors",
  ].map((module) => `coprocessor/src/threshold/${module}.ts`),
  "coprocessor/src/storage/blob-store.ts",
  "coprocessor/src/storage/http-client.ts",
];

describe("isomorphic modules", () => {
  const modules = [...protocolModules(), ...ISOMORPHIC_COPROCESSOR_MODULES];

  it("covers the whole protocol package", () => {
    expect(modules.filter((module) => module.startsWith("protocol/"))).to.include.members([
      "protocol/src/ckks/context.ts",
      "protocol/src/ckks/envelope.ts",
      "protocol/src/records/round-manifest.ts",
    ]);
  });

  for (const module of modules) {
    it(`${module} uses no Node built-ins or Buffer`, () => {
      const source = readFileSync(join(ROOT, module), "utf8");
      expect(source).to.not.match(/from "node:|require\(|\bBuffer\b|\bprocess\.|from "(fs|path|http|crypto|os)"/);
    });
  }
});
