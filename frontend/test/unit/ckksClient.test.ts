import { describe, expect, it } from "vitest";
import { checkUpdateValues, maxAbsoluteDifference, selfTestVector } from "../../src/fhe/ckksClient";
import { chunkCount, CKKS_SLOTS } from "../../src/fhe/params";

describe("checkUpdateValues", () => {
  it("accepts finite values", () => {
    expect(() => checkUpdateValues(Float64Array.from([0, -1.5, 1e300]))).not.toThrow();
  });

  it("rejects an empty update and names the first non-finite position", () => {
    expect(() => checkUpdateValues(new Float64Array(0))).toThrow("The model update has no values to encrypt.");
    expect(() => checkUpdateValues(Float64Array.from([1, 2, Number.NaN, Infinity]))).toThrow(
      "The model update has a non-finite value (NaN) at position 2.",
    );
    expect(() => checkUpdateValues(Float64Array.from([-Infinity]))).toThrow("(-Infinity) at position 0");
  });
});

describe("chunking and self-test helpers", () => {
  it("needs one ciphertext per 8192 values (deep-v2, the rounds' parameter set)", () => {
    expect(CKKS_SLOTS).toBe(8192);
    expect([1, 8192, 8193, 20_000].map(chunkCount)).toEqual([1, 1, 2, 3]);
  });

  it("makes a deterministic vector of both signs", () => {
    const v = selfTestVector(100);
    expect(v).toEqual(selfTestVector(100));
    expect(Math.min(...v)).toBeLessThan(0);
    expect(Math.max(...v)).toBeGreaterThan(0);
  });

  it("measures the largest absolute difference and refuses different lengths", () => {
    expect(maxAbsoluteDifference(Float64Array.from([1, 2, 3]), Float64Array.from([1.5, 2, 2]))).toBe(1);
    expect(() => maxAbsoluteDifference(new Float64Array(2), new Float64Array(3))).toThrow("Lengths differ: 2 and 3.");
  });
});
