import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cipherShareErrorsAbi, roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { ABI_MODULE, ABI_SOURCES, abiModule } from "@ciphershare/scripts/codegen/abis";

const ROOT = join(__dirname, "..", "..", "..");

// The typed ABIs are generated from the artifacts, never copied by hand: a contract change flows through compile.
describe("codegen: the typed ABIs", () => {
  it("are exactly what the artifacts give (hardhat compile regenerated them)", () => {
    expect(readFileSync(ABI_MODULE, "utf8")).to.equal(abiModule(join(ROOT, "artifacts")));
    const artifact = JSON.parse(readFileSync(join(ROOT, "artifacts", ABI_SOURCES.roundManagerAbi), "utf8")) as {
      abi: unknown[];
    };
    expect(roundManagerAbi).to.deep.equal(artifact.abi);
  });

  it("list every custom error of the CipherShare contracts once", () => {
    const signatures = cipherShareErrorsAbi.map(
      (item) => `${item.name}(${item.inputs.map((input: { type: string }) => input.type).join(",")})`,
    );
    expect(new Set(signatures).size).to.equal(signatures.length);
    expect(signatures).to.include.members(["RoundNotFound(uint256)", "ZeroSampleCount()"]);
  });
});
