import { describe, expect, it } from "vitest";
import { pageFromHash } from "../../src/routes";

describe("pageFromHash", () => {
  it.each([
    ["", "connect"],
    ["#/", "connect"],
    ["#/dashboard", "dashboard"],
    ["#audit", "audit"],
    ["#/royalties?round=3", "royalties"],
    ["#/contribute/step/2", "contribute"],
    ["#/provide", "provide"],
    ["#/buyer", "buyer"],
    ["#/nowhere", "connect"],
  ])("%j → %s", (hash, page) => {
    expect(pageFromHash(hash)).toBe(page);
  });
});
