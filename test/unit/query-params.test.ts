// Query parameters → query model: defaults, accepted forms, and a 400 that names every bad parameter.

import { describe, expect, test } from "bun:test";
import { encodeCursor } from "../../src/domain/cursor.ts";
import { DomainError } from "../../src/domain/errors.ts";
import {
  DEFAULT_WINDOW_MS,
  MAX_OFFSET_RESULTS,
  type Params,
  parseLogQuery,
  parseSearchQuery,
  parseStatsParams,
  parseTailParams,
} from "../../src/domain/query-params.ts";

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);

/** The fields a rejected parse names, in order. */
const badFields = (parse: () => unknown): string[] => {
  try {
    parse();
  } catch (error) {
    if (error instanceof DomainError && error.code === "validation_failed")
      return (error.details ?? []).map((d) => d.field);
    throw error;
  }
  throw new Error("expected a validation error");
};

const logs = (params: Params) => parseLogQuery(params, NOW);

describe("parseLogQuery", () => {
  test("defaults to the last 24 hours, page 0 of 50, every level and source", () => {
    const q = logs({});
    expect(q).toMatchObject({
      start: NOW - DEFAULT_WINDOW_MS,
      end: NOW,
      page: 0,
      size: 50,
      levels: [],
      sources: [],
    });
    expect(q.cursor).toBeUndefined();
    expect(q.relative).toBe(true);
    expect(q.window).toEqual(["last", DEFAULT_WINDOW_MS]);
  });

  test("reads ISO-8601 with a zone, without one (as UTC), date only, and epoch milliseconds", () => {
    const at = Date.UTC(2026, 10, 28, 10, 30, 0);
    expect(logs({ startTime: "2026-11-28T10:30:00Z" }).start).toBe(at);
    expect(logs({ startTime: "2026-11-28T11:30:00+01:00" }).start).toBe(at);
    expect(logs({ startTime: "2026-11-28T10:30:00" }).start).toBe(at);
    expect(logs({ startTime: "2026-11-28 10:30:00.000" }).start).toBe(at);
    expect(logs({ startTime: "2026-11-28" }).start).toBe(Date.UTC(2026, 10, 28));
    expect(logs({ startTime: String(at) }).start).toBe(at);
  });

  test("an end without a start looks back 24 hours from the end", () => {
    const end = NOW - 3_600_000;
    const q = logs({ endTime: String(end) });
    expect(q).toMatchObject({ start: end - DEFAULT_WINDOW_MS, end, relative: false });
    expect(q.window).toEqual([end - DEFAULT_WINDOW_MS, end]);
  });

  test("a start without an end runs to now and is keyed by its start, not by the clock", () => {
    const q = logs({ startTime: String(NOW - 1000) });
    expect(q).toMatchObject({ start: NOW - 1000, end: NOW, relative: true });
    expect(q.window).toEqual(["from", NOW - 1000]);
    expect(parseLogQuery({ startTime: String(NOW - 1000) }, NOW + 5000).window).toEqual(q.window);
  });

  test("level and source take comma-separated lists, trimmed, deduplicated and in a canonical order", () => {
    const q = logs({ level: " warn,ERROR,,error ", source: "b, a ,b" });
    expect(q.levels).toEqual(["ERROR", "WARN"]);
    expect(q.sources).toEqual(["a", "b"]);
    expect(logs({ level: "error,warn" }).levels).toEqual(logs({ level: "WARN,ERROR" }).levels);
  });

  test("an empty parameter means no filter", () => {
    expect(
      logs({ level: "", source: "", startTime: "", endTime: "", page: "", size: "", cursor: "" }),
    ).toMatchObject({
      levels: [],
      sources: [],
      page: 0,
      size: 50,
    });
  });

  test("size runs from 1 to 1000", () => {
    expect(logs({ size: "1" }).size).toBe(1);
    expect(logs({ size: "1000" }).size).toBe(1000);
    expect(badFields(() => logs({ size: "0" }))).toEqual(["size"]);
    expect(badFields(() => logs({ size: "1001" }))).toEqual(["size"]);
    expect(badFields(() => logs({ size: "ten" }))).toEqual(["size"]);
    expect(badFields(() => logs({ size: "-5" }))).toEqual(["size"]);
    expect(badFields(() => logs({ size: "2.5" }))).toEqual(["size"]);
  });

  test("page must be a whole number and offset paging stops at the documented bound", () => {
    expect(logs({ page: "3", size: "10" }).page).toBe(3);
    expect(badFields(() => logs({ page: "-1" }))).toEqual(["page"]);
    expect(badFields(() => logs({ page: "x" }))).toEqual(["page"]);
    const lastPage = MAX_OFFSET_RESULTS / 100 - 1;
    expect(logs({ page: String(lastPage), size: "100" }).page).toBe(lastPage);
    expect(badFields(() => logs({ page: String(lastPage + 1), size: "100" }))).toEqual(["page"]);
  });

  test("a deep page is fine with a cursor, which replaces the offset", () => {
    const cursor = encodeCursor({ ts: NOW, id: "x", seq: 9 });
    expect(logs({ page: "500", size: "100", cursor }).cursor).toEqual({ ts: NOW, id: "x", seq: 9 });
  });

  test("rejects times in no accepted form, naming each", () => {
    expect(badFields(() => logs({ startTime: "yesterday" }))).toEqual(["startTime"]);
    expect(badFields(() => logs({ endTime: "2026-13-45T99:00:00Z" }))).toEqual(["endTime"]);
    expect(badFields(() => logs({ endTime: "1.5" }))).toEqual(["endTime"]);
  });

  test("rejects a start after the end, and a start in the future when the end is now", () => {
    expect(badFields(() => logs({ startTime: String(NOW), endTime: String(NOW - 1) }))).toEqual([
      "startTime",
    ]);
    expect(badFields(() => logs({ startTime: String(NOW + 60_000) }))).toEqual(["startTime"]);
    expect(logs({ startTime: String(NOW), endTime: String(NOW) })).toMatchObject({ start: NOW, end: NOW });
  });

  test("rejects unknown levels, naming the value", () => {
    try {
      logs({ level: "INFO,LOUD" });
      throw new Error("expected a validation error");
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).details).toEqual([
        { field: "level", message: expect.stringContaining('"LOUD"') },
      ]);
    }
  });

  test("rejects overlong sources, too many sources and unstorable text", () => {
    expect(badFields(() => logs({ source: "x".repeat(101) }))).toEqual(["source"]);
    expect(
      badFields(() => logs({ source: Array.from({ length: 101 }, (_, i) => `s${i}`).join(",") })),
    ).toEqual(["source"]);
    expect(badFields(() => logs({ source: "a\u0000b" }))).toEqual(["source"]);
  });

  test("rejects a cursor it did not issue", () => {
    expect(badFields(() => logs({ cursor: "not-a-cursor" }))).toEqual(["cursor"]);
    expect(badFields(() => logs({ cursor: "e30" }))).toEqual(["cursor"]);
  });

  test("names every bad parameter at once", () => {
    expect(
      badFields(() => logs({ size: "0", page: "x", level: "NOPE", startTime: "soon", cursor: "!" })),
    ).toEqual(["startTime", "level", "page", "size", "cursor"]);
  });
});

describe("parseSearchQuery", () => {
  test("requires query (or q) with at least one word", () => {
    expect(badFields(() => parseSearchQuery({}, NOW))).toEqual(["query"]);
    expect(badFields(() => parseSearchQuery({ query: "   " }, NOW))).toEqual(["query"]);
    expect(badFields(() => parseSearchQuery({ query: '"" - !!' }, NOW))).toEqual(["query"]);
    expect(parseSearchQuery({ q: "timeout" }, NOW).terms.words).toEqual(["timeout"]);
  });

  test("bounds the query length", () => {
    expect(badFields(() => parseSearchQuery({ query: "a ".repeat(501) }, NOW))).toEqual(["query"]);
  });

  test("takes the same filters as the listing and reports their errors with the query's", () => {
    const q = parseSearchQuery({ query: 'disk "write failed" -retry', level: "error", size: "5" }, NOW);
    expect(q).toMatchObject({ levels: ["ERROR"], size: 5, page: 0 });
    expect(q.terms).toEqual({ words: ["disk"], phrases: [["write", "failed"]], excluded: ["retry"] });
    expect(badFields(() => parseSearchQuery({ size: "0" }, NOW))).toEqual(["query", "size"]);
  });
});

describe("parseStatsParams", () => {
  test("looks back 24 hours by default", () => {
    expect(parseStatsParams({}, NOW)).toEqual({ start: NOW - 24 * 3_600_000, end: NOW, hoursBack: 24 });
  });

  test("hoursBack runs from 1 to 8760", () => {
    expect(parseStatsParams({ hoursBack: "1" }, NOW).start).toBe(NOW - 3_600_000);
    expect(parseStatsParams({ hoursBack: "8760" }, NOW).hoursBack).toBe(8760);
    for (const bad of ["0", "8761", "abc", "-2", "1.5"])
      expect(badFields(() => parseStatsParams({ hoursBack: bad }, NOW))).toEqual(["hoursBack"]);
  });
});

describe("parseTailParams", () => {
  test("starts from now without a position, and filters on level, source and text", () => {
    const t = parseTailParams({ level: "warn,error", source: "api", query: "timeout -retry" }, undefined);
    expect(t).toEqual({
      levels: ["ERROR", "WARN"],
      sources: ["api"],
      terms: { words: ["timeout"], phrases: [], excluded: ["retry"] },
    });
  });

  test("resumes from Last-Event-ID, or from cursor= when the header is absent", () => {
    const a = encodeCursor({ ts: 1, id: "a", seq: 10 });
    const b = encodeCursor({ ts: 2, id: "b", seq: 20 });
    expect(parseTailParams({ cursor: b }, a).after?.seq).toBe(10);
    expect(parseTailParams({ cursor: b }, undefined).after?.seq).toBe(20);
    expect(parseTailParams({}, "  ").after).toBeUndefined();
  });

  test("names the bad parameter", () => {
    expect(badFields(() => parseTailParams({ level: "LOUD" }, undefined))).toEqual(["level"]);
    expect(badFields(() => parseTailParams({ query: "!!" }, undefined))).toEqual(["query"]);
    expect(badFields(() => parseTailParams({}, "garbage!"))).toEqual(["Last-Event-ID"]);
    expect(badFields(() => parseTailParams({ cursor: "garbage!" }, undefined))).toEqual(["cursor"]);
  });
});
