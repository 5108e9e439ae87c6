import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..", "..");

/** The file an import specifier names: relative, or a module of one of the workspace packages (`@ciphershare/…`). */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  const packaged = /^@ciphershare\/(protocol|coprocessor)\/(.+)$/.exec(specifier);
  const base = packaged
    ? join(ROOT, packaged[1], "src", packaged[2])
    : specifier.startsWith(".")
      ? resolve(dirname(from), specifier)
      : undefined;
  return base === undefined ? undefined : [`${base}.ts`, join(base, "index.ts")].find(existsSync);
}

/** Every module `entry` loads, following relative and package imports (type-only imports vanish at run time). */
function moduleGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)";/gms)) {
      const target = resolveSpecifier(file, match[1]);
      if (target) visit(target);
    }
  };
  visit(resolve(entry));
  return seen;
}

// Privacy table rows of docs/privacy.md that are properties of the code: the coprocessor process never loads the
// custodian's keystore or secret-key loader and calls no decryption; the contributor never either.
describe("privacy: what each role's code can reach", () => {
  const root = ROOT;
  const rel = (files: Set<string>) => [...files].map((f) => f.slice(root.length + 1));

  it("the coprocessor (library and CLI command) never loads a secret key", () => {
    const graph = rel(moduleGraph(join(root, "scripts/cli/commands/coprocessor.ts")));
    expect(graph).to.include("coprocessor/src/roles/coprocessor.ts");
    expect(graph, "the walk follows package imports").to.include("protocol/src/ckks/envelope.ts");
    expect(graph.filter((f) => f.startsWith("coprocessor/src/keys/"))).to.deep.equal([]);
    expect(graph).to.not.include("coprocessor/src/roles/custodian.ts");
    for (const file of graph) {
      expect(readFileSync(join(root, file), "utf8"), file).to.not.match(
        /(?<!function )\b(loadSecretKey|openKeystore|readKeystoreFile|decryptScoreBatches|decryptEnvelopeValues)\(/,
      );
    }
  });

  it("the contributor never loads a secret key or the custodian", () => {
    const graph = rel(moduleGraph(join(root, "scripts/cli/commands/contributor.ts")));
    // The keystore format seals the contributor's own payout key; the custodian's key loader and policy stay out.
    expect(
      graph.filter(
        (f) =>
          (f.startsWith("coprocessor/src/keys/") && !f.endsWith("keys/keystore.ts")) ||
          f.endsWith("roles/custodian.ts"),
      ),
    ).to.deep.equal([]);
    for (const file of graph.filter((f) => !f.endsWith("keys/keystore.ts"))) {
      expect(readFileSync(join(root, file), "utf8"), file).to.not.match(
        /(?<!function )\b(loadSecretKey|openKeystore|openShareKeystore|decryptScoreBatches|decryptEnvelopeValues)\(/,
      );
    }
  });

  it("the custodian decrypts through the policy only: its role module never calls a raw decrypt on an input", () => {
    const source = readFileSync(join(root, "coprocessor/src/roles/custodian.ts"), "utf8");
    // Two decryptions, both through KeyCustodian.decryptOutput (the policy runs first, inside it): the aggregate
    // and Enc(φ), the round's two published outputs.
    expect(source.match(/decryptOutput\(/g)).to.have.length(2);
    expect(source).to.not.match(/decryptEnvelopeValues|decryptScoreBatches|loadSecretKey|ctx\.decrypt\(/);
  });
});
