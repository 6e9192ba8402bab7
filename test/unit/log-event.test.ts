// The ingest schema of one log event: defaults, unknown fields, level, message, source, id, the whole value.

import { describe, expect, test } from "bun:test";
import { LEVELS } from "../../src/domain/level.ts";
import {
  accepted,
  baseEvent as base,
  fieldsOf,
  parseEvent as parse,
  RECEIVED,
  rejected,
} from "../helpers/parse-event.ts";

describe("defaults", () => {
  test("an event with only the required fields gets a UUIDv7 id, the receive time and null metadata", () => {
    const event = accepted(base);
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event.timestamp).toBe(RECEIVED);
    expect(event.metadata).toBeNull();
    expect(event).toEqual({ ...base, id: event.id, timestamp: RECEIVED, metadata: null });
  });

  test("null timestamp, id and metadata count as absent", () => {
    const event = accepted({ ...base, timestamp: null, id: null, metadata: null });
    expect(event.timestamp).toBe(RECEIVED);
    expect(event.id.length).toBe(36);
    expect(event.metadata).toBeNull();
  });

  test("generated ids differ from event to event", () => {
    expect(accepted(base).id).not.toBe(accepted(base).id);
  });

  test("unknown fields are ignored and not carried along", () => {
    const event = accepted({ ...base, host: "a", tags: ["x"], nested: { deep: true } });
    expect(Object.keys(event).toSorted()).toEqual([
      "id",
      "level",
      "message",
      "metadata",
      "source",
      "timestamp",
    ]);
  });
});

describe("level", () => {
  test.each(LEVELS.map((l) => [l]))("%s is accepted in any case and stored upper-case", (level) => {
    for (const form of [level, level.toLowerCase(), level[0] + level.slice(1).toLowerCase()])
      expect(accepted({ ...base, level: form }).level).toBe(level);
  });

  test("surrounding whitespace is tolerated", () => {
    expect(accepted({ ...base, level: " warn " }).level).toBe("WARN");
  });

  test.each([["VERBOSE"], [""], ["WARNING"], ["INF"]])("%p is not a level", (level) => {
    const issues = rejected({ ...base, level });
    expect(issues).toEqual([{ field: "level", message: expect.stringContaining("TRACE") }]);
  });

  test("a missing or non-string level is named", () => {
    const { level: _drop, ...noLevel } = base;
    expect(fieldsOf(noLevel)).toEqual(["level"]);
    expect(fieldsOf({ ...base, level: 3 })).toEqual(["level"]);
  });
});

describe("message", () => {
  test("is required, must be a string and must not be empty", () => {
    const { message: _drop, ...noMessage } = base;
    expect(rejected(noMessage)).toEqual([{ field: "message", message: "is required" }]);
    expect(fieldsOf({ ...base, message: 42 })).toEqual(["message"]);
    expect(rejected({ ...base, message: "" })).toEqual([{ field: "message", message: "must not be empty" }]);
  });

  test("may hold exactly 32 KiB of UTF-8 and no byte more", () => {
    expect(accepted({ ...base, message: "x".repeat(32 * 1024) }).message.length).toBe(32 * 1024);
    expect(fieldsOf({ ...base, message: "x".repeat(32 * 1024 + 1) })).toEqual(["message"]);
  });

  test("the limit counts UTF-8 bytes, not characters", () => {
    const twoByteChars = "é".repeat(16 * 1024 + 1);
    expect(twoByteChars.length).toBeLessThan(32 * 1024);
    expect(fieldsOf({ ...base, message: twoByteChars })).toEqual(["message"]);
  });

  test("keeps any other text exactly, including emoji, newlines and other control characters", () => {
    const message = "line1\nline2\t\u0001 😀 \u2028 ünïcödé";
    expect(accepted({ ...base, message }).message).toBe(message);
  });
});

describe("source", () => {
  test("is required and 1 to 100 characters", () => {
    const { source: _drop, ...noSource } = base;
    expect(fieldsOf(noSource)).toEqual(["source"]);
    expect(fieldsOf({ ...base, source: "" })).toEqual(["source"]);
    expect(accepted({ ...base, source: "s".repeat(100) }).source).toBe("s".repeat(100));
    expect(rejected({ ...base, source: "s".repeat(101) })).toEqual([
      { field: "source", message: "must be at most 100 characters" },
    ]);
    expect(fieldsOf({ ...base, source: ["a"] })).toEqual(["source"]);
  });
});

describe("id", () => {
  test("a given id is kept, up to 64 characters", () => {
    expect(accepted({ ...base, id: "client-id-1" }).id).toBe("client-id-1");
    expect(accepted({ ...base, id: "i".repeat(64) }).id).toBe("i".repeat(64));
  });

  test("is refused when empty, longer than 64 characters or not a string", () => {
    expect(fieldsOf({ ...base, id: "" })).toEqual(["id"]);
    expect(rejected({ ...base, id: "i".repeat(65) })).toEqual([
      { field: "id", message: "must be at most 64 characters" },
    ]);
    expect(fieldsOf({ ...base, id: 12 })).toEqual(["id"]);
  });
});

describe("the whole value", () => {
  test.each([[null], [[base]], ["text"], [7]])("%p is not an event object", (raw) => {
    expect(rejected(raw)).toEqual([{ field: "body", message: "must be a JSON object" }]);
  });

  test("every bad field is reported at once", () => {
    expect(fieldsOf({ level: "nope", message: "", source: "", timestamp: "x", id: "", metadata: 1 })).toEqual(
      ["level", "message", "source", "timestamp", "id", "metadata"],
    );
  });

  test("a prefix names fields within a larger document", () => {
    expect(parse({ ...base, level: "x" }, RECEIVED, "events.3.")).toEqual({
      ok: false,
      issues: [{ field: "events.3.level", message: expect.any(String) }],
    });
  });
});
