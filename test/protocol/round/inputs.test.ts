import { expect } from "chai";
import fc from "fast-check";
import { keccak256 as viemKeccak256, concatHex, encodeAbiParameters, getAddress } from "viem";
import { CommitmentStatus, ExclusionReason } from "@ciphershare/protocol/chain/constants";
import { bytesToHex, type Address, type Hex } from "@ciphershare/protocol/hex";
import {
  includedContributions,
  inputsHash,
  parseReasons,
  publicationReasons,
  sealOf,
  type RoundCommitment,
} from "@ciphershare/protocol/round/inputs";

describe("round/inputs: seals, reason bytes, the included set and its hash, as every role derives them", () => {
  const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
  const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
  const commitments: RoundCommitment[] = [1, 2, 3, 4].map((n, index) => ({
    index,
    contributor: address(n),
    ciphertextHash: hash(100 + n),
    sampleCount: 10 * n,
    status: CommitmentStatus.Revealed,
    uri: "local:",
  }));

  it("seals a hash to its author: keccak256(abi.encode(hash, contributor)), another author gets another seal", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 1, max: 1e9 }), (bytes, n) => {
        const h = bytesToHex(bytes);
        const expected = viemKeccak256(
          encodeAbiParameters([{ type: "bytes32" }, { type: "address" }], [h, address(n)]),
        );
        expect(sealOf(h, address(n))).to.equal(expected);
        expect(sealOf(h, getAddress(address(n)))).to.equal(expected); // checksum case does not matter
        expect(sealOf(h, address(n + 1))).to.not.equal(expected);
      }),
      { numRuns: 50 },
    );
  });

  it("reason bytes: the chain's verdicts for sealed and duplicate commitments, the coprocessor's for revealed ones", () => {
    const statuses = [
      CommitmentStatus.Revealed,
      CommitmentStatus.Sealed,
      CommitmentStatus.Duplicate,
      CommitmentStatus.Revealed,
    ];
    const verdicts = new Map([
      [1, ExclusionReason.BlobMissing], // ignored: a sealed commitment is Unrevealed whatever the coprocessor says
      [3, ExclusionReason.Malformed],
    ] as const);
    const reasons = publicationReasons(
      statuses.map((status, index) => ({ index, status })),
      verdicts,
    );
    expect([...reasons]).to.deep.equal([
      ExclusionReason.None,
      ExclusionReason.Unrevealed,
      ExclusionReason.Duplicate,
      ExclusionReason.Malformed,
    ]);
  });

  it("keeps commit order and includes exactly the commitments whose reason byte is 0", () => {
    const reasons = Uint8Array.from([0, 0, ExclusionReason.Policy, 0]);
    const included = includedContributions(commitments, reasons);
    expect(included.map((c) => c.contributor)).to.deep.equal([address(1), address(2), address(4)]);
    expect(includedContributions(commitments, new Uint8Array(4))).to.deep.equal(commitments);
  });

  it("parses a publication's reasons and refuses one that does not give one byte per commitment", () => {
    expect([...parseReasons("0x00050601", 4)]).to.deep.equal([0, 5, 6, 1]);
    expect(() => parseReasons("0x0005", 4)).to.throw(/one exclusion reason per commitment/);
  });

  it("hashes the included ciphertext hashes concatenated in commit order (the contract's inputsHash)", async () => {
    const included = includedContributions(commitments, Uint8Array.from([0, ExclusionReason.HashMismatch, 0, 0]));
    const expected = viemKeccak256(concatHex(included.map((c) => c.ciphertextHash)));
    expect(await inputsHash(included)).to.equal(expected);
    expect(await inputsHash([...included].reverse())).to.not.equal(expected);
    expect(await inputsHash([])).to.equal(viemKeccak256("0x"));
  });
});
