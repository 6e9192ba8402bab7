// The keyset cursor: an opaque token that round-trips, refuses what it did not issue, and pins a listing's snapshot.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeCursor, encodeCursor } from "../../src/domain/cursor.ts";
import { pageJson, startCursor } from "../../src/domain/page-shape.ts";
import type { LogQuery, PageItem } from "../../src/domain/query.ts";

const item = (ts: number, id: string, seq: number): PageItem => ({
  id,
  level: "INFO",
  message: "m",
  source: "s",
  timestamp: ts,
  metadata: null,
  createdAt: ts,
  seq,
});

const query = (over: Partial<LogQuery> = {}): LogQuery => ({
  start: 0,
  end: 10_000,
  levels: [],
  sources: [],
  page: 0,
  size: 2,
  ...over,
});

describe("cursor tokens", () => {
  test("round-trip any position", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.string({ maxLength: 64 }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        (ts, id, seq) => {
          const token = encodeCursor({ ts, id, seq });
          expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(decodeCursor(token)).toEqual({ ts, id, seq });
        },
      ),
    );
  });

  test("refuse tokens they did not issue", () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    for (const bad of [
      "",
      "!!!",
      "a".repeat(600),
      b64({ ts: 1 }),
      b64([1, 2]),
      b64([1.5, 2, "x"]),
      b64([1, 2, 3]),
      b64([1, 2, "x".repeat(65)]),
      b64(["1", 2, "x"]),
    ])
      expect(decodeCursor(bad)).toBeUndefined();
  });

  test("never throw on arbitrary input", () => {
    fc.assert(fc.property(fc.string(), (s) => void decodeCursor(s)));
  });

  test("the start cursor lies before every event and carries only the snapshot", () => {
    const c = decodeCursor(startCursor(42));
    expect(c?.seq).toBe(42);
    expect(c?.ts).toBeGreaterThan(Date.UTC(9999, 0, 1));
  });
});

describe("a listing's cursors", () => {
  const page = { items: [item(9000, "b", 7), item(8000, "a", 3)], total: 5, totalExact: true, hasMore: true };

  test("nextCursor continues after the last item at the listing's snapshot", () => {
    const body = pageJson(query(), page, 40);
    expect(decodeCursor(body.nextCursor)).toEqual({ ts: 8000, id: "a", seq: 40 });
  });

  test("every item's cursor carries the snapshot, not the item's own arrival", () => {
    const body = pageJson(query(), page, 40);
    expect(body.content.map((e) => decodeCursor(e.cursor)?.seq)).toEqual([40, 40]);
  });

  test("the last page still carries a cursor (to tail from), and says it is last", () => {
    const body = pageJson(query(), { ...page, hasMore: false }, 40);
    expect(body.last).toBe(true);
    expect(decodeCursor(body.nextCursor)).toEqual({ ts: 8000, id: "a", seq: 40 });
  });

  test("an empty page keeps the position it was asked for", () => {
    const empty = { items: [], total: 0, totalExact: true, hasMore: false };
    expect(decodeCursor(pageJson(query(), empty, 5).nextCursor)).toEqual(decodeCursor(startCursor(5)));
    const at = { ts: 123, id: "z", seq: 5 };
    expect(decodeCursor(pageJson(query({ cursor: at }), empty, 5).nextCursor)).toEqual(at);
  });

  test("page numbers follow the request; a cursor page is never the first", () => {
    expect(pageJson(query({ page: 2 }), page, 1)).toMatchObject({ number: 2, first: false, totalPages: 3 });
    expect(pageJson(query(), page, 1)).toMatchObject({ number: 0, first: true });
    expect(pageJson(query({ cursor: { ts: 1, id: "x", seq: 1 } }), page, 1)).toMatchObject({
      number: 0,
      first: false,
    });
  });
});
