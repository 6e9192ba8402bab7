// Bus offsets as decimal strings: ordered as numbers, advanced exactly even past 2^53.

import { describe, expect, test } from "bun:test";
import { compareOffsets, nextOffsets } from "../../src/domain/offsets.ts";

describe("bus offsets", () => {
  test("compare as numbers and advance past 2^53", () => {
    expect(compareOffsets("9", "10")).toBeLessThan(0);
    expect(compareOffsets("10", "9")).toBeGreaterThan(0);
    expect(compareOffsets("123", "123")).toBe(0);
    expect(compareOffsets("124", "123")).toBeGreaterThan(0);
    const next = nextOffsets([
      { partition: 0, offset: "9" },
      { partition: 0, offset: "10" },
      { partition: 1, offset: "9007199254740993" },
      { partition: 1, offset: "99" },
    ]);
    expect(Object.fromEntries(next)).toEqual({ 0: "11", 1: "9007199254740994" });
  });
});
