import { describe, expect, it } from "vitest";
import { bitmapMembers, releasedByLabel } from "../../src/dashboard/committeeRelease";

const TWO_OF_THREE = { memberCount: 3, threshold: 2 };
/** Bit k is member k, as the committee contract's bitmaps. */
const bits = (...members: number[]) => members.reduce((map, k) => map | (1 << k), 0);

describe("releasedByLabel", () => {
  it("names the decrypting set of an anchored committee release, and the committee's size", () => {
    const release = { joined: bits(1, 3), joinedCount: 2, submittedCount: 2, silent: 0 };
    expect(releasedByLabel(true, TWO_OF_THREE, release)).toBe("released by member 1, 3 (2 of 3)");
  });

  it("names a member dropped as silent next to the members that released without it", () => {
    const release = { joined: bits(1, 2), joinedCount: 2, submittedCount: 2, silent: bits(3) };
    expect(releasedByLabel(true, TWO_OF_THREE, release)).toBe("released by member 1, 2 (2 of 3); member 3 silent");
  });

  it("shows a pending release's progress: who joined, then whose shares are in", () => {
    expect(
      releasedByLabel(false, TWO_OF_THREE, { joined: bits(2), joinedCount: 1, submittedCount: 0, silent: 0 }),
    ).toBe("releasing: member 2 joined (1 of 2 needed)");
    expect(
      releasedByLabel(false, TWO_OF_THREE, { joined: bits(1, 2), joinedCount: 2, submittedCount: 1, silent: 0 }),
    ).toBe("releasing: member 1, 2, 1 of 2 shares in");
    expect(releasedByLabel(false, TWO_OF_THREE, { joined: 0, joinedCount: 0, submittedCount: 0, silent: 0 })).toBe("–");
  });

  it("says custodian for a program without a committee (or a deployment without the committee contract)", () => {
    const empty = { joined: 0, joinedCount: 0, submittedCount: 0, silent: 0 };
    expect(releasedByLabel(true, { memberCount: 0, threshold: 0 }, empty)).toBe("custodian");
    expect(releasedByLabel(true, undefined, undefined)).toBe("custodian");
    expect(releasedByLabel(false, undefined, undefined)).toBe("–");
  });
});

describe("bitmapMembers", () => {
  it("lists the members whose bits are set, ascending (bit 0 is unused)", () => {
    expect(bitmapMembers(0b1010)).toEqual([1, 3]);
    expect(bitmapMembers(1 << 31)).toEqual([31]);
    expect(bitmapMembers(0)).toEqual([]);
  });
});
