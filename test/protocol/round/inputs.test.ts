import { expect } from "chai";
import { keccak256 as viemKeccak256, concatHex } from "viem";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { includedContributions, inputsHash, type CommittedContribution } from "@ciphershare/protocol/round/inputs";

describe("round/inputs: the included set and its hash, as every role derives them", () => {
  const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
  const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
  const commitments: CommittedContribution[] = [1, 2, 3, 4].map((n, index) => ({
    index,
    contributor: address(n),
    ciphertextHash: hash(100 + n),
    sampleCount: 10 * n,
    uri: "local:",
  }));

  it("keeps commit order and drops every contributor an exclusion names, whatever the address case", () => {
    const excluded = [{ contributor: address(3).toUpperCase().replace("0X", "0x") as Address }];
    const included = includedContributions(commitments, excluded);
    expect(included.map((c) => c.contributor)).to.deep.equal([address(1), address(2), address(4)]);
    expect(includedContributions(commitments, [])).to.deep.equal(commitments);
  });

  it("hashes the included ciphertext hashes concatenated in commit order (the contract's inputsHash)", async () => {
    const included = includedContributions(commitments, [{ contributor: address(2) }]);
    const expected = viemKeccak256(concatHex(included.map((c) => c.ciphertextHash)));
    expect(await inputsHash(included)).to.equal(expected);
    expect(await inputsHash([...included].reverse())).to.not.equal(expected);
    expect(await inputsHash([])).to.equal(viemKeccak256("0x"));
  });
});
