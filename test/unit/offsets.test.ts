// Bus offsets as decimal strings: ordered as numbers, advanced exactly even past 2^53; positions with append
// times tell the records a group handled from those of a log created since.

import { describe, expect, test } from "bun:test";
import {
  advances,
  compareOffsets,
  handledBefore,
  nextOffsets,
  nextPositions,
} from "../../src/domain/offsets.ts";

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

describe("positions with append times", () => {
  const at = { next: "100", appendedMs: 5_000 };

  test("a record before the position in offset and not newer than it was handled", () => {
    expect(handledBefore(at, "99", 5_000)).toBe(true);
    expect(handledBefore(at, "0", 1_000)).toBe(true);
  });

  test("a record at or past the position was not, whatever its time", () => {
    expect(handledBefore(at, "100", 1_000)).toBe(false);
    expect(handledBefore(at, "250", 9_000)).toBe(false);
    expect(handledBefore(undefined, "0", 1_000)).toBe(false);
  });

  test("a record of a log created since (a lower offset, appended later) was not handled", () => {
    expect(handledBefore(at, "0", 5_001)).toBe(false);
    expect(handledBefore(at, "99", 60_000)).toBe(false);
  });

  test("without append times, offsets alone decide (positions kept before they were)", () => {
    expect(handledBefore({ next: "100" }, "99", 60_000)).toBe(true);
    expect(handledBefore(at, "99")).toBe(true);
  });

  test("the later record's position wins: by time when both have one, else by offset", () => {
    expect(advances(undefined, { next: "1" })).toBe(true);
    expect(advances(at, { next: "150", appendedMs: 6_000 })).toBe(true);
    // A log created since: lower offsets, newer records.
    expect(advances(at, { next: "3", appendedMs: 6_000 })).toBe(true);
    // A late writer of an earlier batch moves nothing back.
    expect(advances(at, { next: "60", appendedMs: 4_000 })).toBe(false);
    expect(advances(at, { next: "100", appendedMs: 5_000 })).toBe(false);
    expect(advances(at, { next: "101", appendedMs: 5_000 })).toBe(true);
    expect(advances({ next: "100" }, { next: "3", appendedMs: 6_000 })).toBe(false);
    expect(advances({ next: "100" }, { next: "101", appendedMs: 6_000 })).toBe(true);
  });

  test("the append time kept is that of each partition's last record", () => {
    const { appendedMs: last } = nextPositions([
      { partition: 0, offset: "9", timestamp: 20 },
      { partition: 0, offset: "10", timestamp: 15 },
      { partition: 1, offset: "4", timestamp: 7 },
    ]);
    expect(Object.fromEntries(last)).toEqual({ 0: 15, 1: 7 });
  });
});
