import { expect } from "chai";
import { scoreReleaseCheck } from "@ciphershare/coprocessor/roles/auditor";
import { decodeReleaseRecord, releasedScores, type ReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { decodeRoundManifest, scoreReleaseOf, type RoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";

// The network pins a round's score release policy in the manifest; the custodian's record follows it and the
// auditor checks that it did.
describe("score release policy", () => {
  const contributors = ["0x00000000000000000000000000000000000000a1", "0x00000000000000000000000000000000000000b2"];
  const phi = [4.5e-3, -1.25e-3];
  const manifest: RoundManifest = {
    kind: "ciphershare.round",
    version: 1,
    baseModel: `0x${"11".repeat(32)}`,
    validation: `0x${"22".repeat(32)}`,
    parameterSet: "deep-v1",
    dimension: 785,
    classes: 10,
  };
  const record = (policy: "private" | "public"): ReleaseRecord => ({
    kind: "ciphershare.release",
    version: 1,
    round: 1,
    aggregate: `0x${"33".repeat(32)}`,
    scores: `0x${"44".repeat(32)}`,
    globalModel: `0x${"55".repeat(32)}`,
    contributors,
    utilityEmpty: -0.1,
    floodingSigma: 2 ** -28,
    ...releasedScores(policy, contributors, phi),
  });

  it("defaults to private when the manifest does not say, and reads an explicit public policy", () => {
    expect(scoreReleaseOf(decodeRoundManifest(encodeJsonRecord(manifest)))).to.equal("private");
    const pub = decodeRoundManifest(encodeJsonRecord({ ...manifest, scoreRelease: "public" }));
    expect(scoreReleaseOf(pub)).to.equal("public");
  });

  it("refuses a manifest with an unknown policy, naming it", () => {
    const bad = new TextEncoder().encode(JSON.stringify({ ...manifest, scoreRelease: "everyone" }));
    expect(() => decodeRoundManifest(bad)).to.throw(/scoreRelease/);
  });

  it("private: the release record carries Σφ and nothing per contributor", () => {
    const released = decodeReleaseRecord(encodeJsonRecord(record("private")));
    expect(released.phiSum).to.be.closeTo(3.25e-3, 1e-15);
    expect(released).to.not.have.property("phi");
    expect(released).to.not.have.property("flagged");
    expect(JSON.stringify(released)).to.not.include("4.5e-3").and.not.include("0.0045");
    expect(scoreReleaseCheck("private", released)[0]).to.equal(true);
  });

  it("public: the release record lists φ in contributor order and the flagged contributors (φ ≤ 0)", () => {
    const released = decodeReleaseRecord(encodeJsonRecord(record("public")));
    expect(released.phi).to.deep.equal(phi);
    expect(released.flagged).to.deep.equal([contributors[1]]);
    expect(released.phiSum).to.be.closeTo(phi[0] + phi[1], 1e-15);
    expect(scoreReleaseCheck("public", released)[0]).to.equal(true);
  });

  it("the auditor fails a record that breaks its round's policy", () => {
    expect(scoreReleaseCheck("private", record("public"))[0]).to.equal(false);
    expect(scoreReleaseCheck("public", record("private"))[0]).to.equal(false);
    expect(scoreReleaseCheck("public", { ...record("public"), phiSum: 1 })[0]).to.equal(false);
  });

  it("refuses a φ list that does not match the contributors", () => {
    expect(() => releasedScores("public", contributors, [1])).to.throw(/one φ per included contributor/);
  });
});
