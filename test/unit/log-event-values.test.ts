// The ingest schema of one log event: time forms, metadata limits, and text that could not read back identically.

import { describe, expect, test } from "bun:test";
import { accepted, baseEvent as base, fieldsOf, nested, rejected } from "../helpers/parse-event.ts";

describe("timestamp", () => {
  test.each([
    ["2024-03-05T10:11:12Z", Date.UTC(2024, 2, 5, 10, 11, 12)],
    ["2024-03-05T10:11:12.345Z", Date.UTC(2024, 2, 5, 10, 11, 12, 345)],
    ["2024-03-05T12:11:12+02:00", Date.UTC(2024, 2, 5, 10, 11, 12)],
    ["2024-03-05T05:11:12-0500", Date.UTC(2024, 2, 5, 10, 11, 12)],
    ["2024-03-05t10:11:12z", Date.UTC(2024, 2, 5, 10, 11, 12)],
    ["2024-03-05T10:11:12.123456789Z", Date.UTC(2024, 2, 5, 10, 11, 12, 123)],
  ])("ISO-8601 with a zone: %s", (text, ms) => {
    expect(accepted({ ...base, timestamp: text }).timestamp).toBe(ms);
  });

  test.each([
    ["2024-03-05T10:11:12", Date.UTC(2024, 2, 5, 10, 11, 12)],
    ["2024-03-05T10:11:12.5", Date.UTC(2024, 2, 5, 10, 11, 12, 500)],
    ["2024-03-05 10:11", Date.UTC(2024, 2, 5, 10, 11)],
    ["2024-03-05", Date.UTC(2024, 2, 5)],
  ])("ISO-8601 without a zone is UTC: %s", (text, ms) => {
    expect(accepted({ ...base, timestamp: text }).timestamp).toBe(ms);
  });

  test("epoch milliseconds as a number or a numeric string", () => {
    expect(accepted({ ...base, timestamp: 1_700_000_000_123 }).timestamp).toBe(1_700_000_000_123);
    expect(accepted({ ...base, timestamp: "1700000000123" }).timestamp).toBe(1_700_000_000_123);
    expect(accepted({ ...base, timestamp: 0 }).timestamp).toBe(0);
  });

  test.each([
    ["yesterday"],
    ["2024-13-45T10:00:00Z"],
    ["2024-03-05T10:11:12+25"],
    [1.5],
    [-1],
    [true],
    [{ ms: 1 }],
    ["10000-01-01T00:00:00Z"],
  ])("%p is not a time", (timestamp) => {
    expect(fieldsOf({ ...base, timestamp })).toEqual(["timestamp"]);
  });
});

describe("metadata", () => {
  test("an object is kept as given", () => {
    const metadata = { user: { id: 7, roles: ["a", "b"] }, ok: true, ratio: 0.5, none: null };
    expect(accepted({ ...base, metadata }).metadata).toEqual(metadata);
  });

  test.each([[[1, 2]], ["text"], [5], [true]])("%p is not an object", (metadata) => {
    expect(fieldsOf({ ...base, metadata })).toEqual(["metadata"]);
  });

  test("may nest 8 levels deep, not 9", () => {
    expect(accepted({ ...base, metadata: nested(8) }).metadata).toEqual(nested(8));
    expect(rejected({ ...base, metadata: nested(9) })).toEqual([
      { field: "metadata", message: "must be nested at most 8 deep" },
    ]);
  });

  test("may serialize to exactly 16 KiB and no byte more", () => {
    const fits = { k: "x".repeat(16 * 1024 - 8) };
    expect(JSON.stringify(fits).length).toBe(16 * 1024);
    expect(accepted({ ...base, metadata: fits }).metadata).toEqual(fits);
    expect(fieldsOf({ ...base, metadata: { k: "x".repeat(16 * 1024 - 7) } })).toEqual(["metadata"]);
  });
});

describe("text that could not read back identically is refused", () => {
  test.each([
    ["message", { message: "a\u0000b" }],
    ["source", { source: "src\u0000" }],
    ["id", { id: "\u0000" }],
    ["metadata.note", { metadata: { note: "x\u0000" } }],
  ])("the NUL character in %s", (field, patch) => {
    expect(rejected({ ...base, ...patch })).toEqual([
      { field, message: "must not contain the NUL character (U+0000)" },
    ]);
  });

  test.each([
    ["message", { message: "high \ud800 alone" }],
    ["message", { message: "low \udc00 alone" }],
    ["source", { source: "\udbff" }],
    ["metadata.list[1]", { metadata: { list: ["ok", "x\udfff"] } }],
  ])("a lone surrogate in %s", (field, patch) => {
    expect(rejected({ ...base, ...patch })).toEqual([
      { field, message: "must not contain a lone UTF-16 surrogate" },
    ]);
  });

  test("a metadata key with NUL is named by its path", () => {
    const [issue] = rejected({ ...base, metadata: { "bad\u0000key": 1 } });
    expect(issue?.field).toBe("metadata.bad\u0000key");
    expect(issue?.message).toContain("NUL");
  });

  test("a proper surrogate pair (an emoji) is fine", () => {
    expect(accepted({ ...base, message: "\ud83d\ude00" }).message).toBe("😀");
  });
});
