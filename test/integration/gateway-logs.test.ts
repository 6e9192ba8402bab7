// The log listing over HTTP: page shape, newest first, page numbers, totals, and cursor paging while events arrive.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { decodeCursor } from "../../src/domain/cursor.ts";
import { createGatewayFixture, type GatewayFixture, qs } from "./gateway-fixture.ts";

let f: GatewayFixture;
beforeEach(async () => {
  f = await createGatewayFixture();
});
afterEach(() => f.close());

interface Item {
  id: string;
  message: string;
  timestamp: string;
}

const ids = (body: { content: Item[] }): string[] => body.content.map((e) => e.id);

describe("page shape", () => {
  test("has the content and the page fields of the design we replace", async () => {
    const t = Date.now() - 5000;
    const [e] = await f.write({
      level: "WARN",
      message: "disk almost full",
      source: "storage",
      timestamp: t,
      metadata: { host: "n1", pct: 93, tags: ["a"] },
    });
    const r = await f.get("logs");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json; charset=UTF-8");
    expect(r.body).toEqual({
      content: [
        {
          id: e?.id,
          level: "WARN",
          message: "disk almost full",
          source: "storage",
          timestamp: new Date(t).toISOString(),
          metadata: { host: "n1", pct: 93, tags: ["a"] },
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          cursor: expect.any(String),
        },
      ],
      totalElements: 1,
      totalElementsExact: true,
      totalPages: 1,
      size: 50,
      number: 0,
      first: true,
      last: true,
      numberOfElements: 1,
      empty: false,
      nextCursor: expect.any(String),
    });
  });

  test("an empty window is an empty first and last page that still carries a cursor", async () => {
    const r = await f.get("logs");
    expect(r.body).toMatchObject({
      content: [],
      totalElements: 0,
      totalPages: 0,
      number: 0,
      first: true,
      last: true,
      numberOfElements: 0,
      empty: true,
    });
    expect(decodeCursor(r.body.nextCursor)).toBeDefined();
  });

  test("lists newest first, ties in event time broken by id, descending", async () => {
    const t = Date.now() - 10_000;
    await f.write(
      { id: "b", timestamp: t },
      { id: "c", timestamp: t - 1 },
      { id: "a", timestamp: t },
      { id: "d", timestamp: t + 1 },
    );
    expect(ids((await f.get("logs")).body)).toEqual(["d", "b", "a", "c"]);
  });
});

describe("page numbers", () => {
  test("consecutive pages partition the listing, with first, last and totals", async () => {
    const t = Date.now() - 60_000;
    await f.write(...Array.from({ length: 8 }, (_, i) => ({ id: `e${i}`, timestamp: t + i })));
    const all = ids((await f.get("logs?size=50")).body);
    const pages = [];
    for (let page = 0; page < 3; page++) pages.push((await f.get(`logs?${qs({ page, size: 3 })}`)).body);
    expect(pages.flatMap(ids)).toEqual(all);
    expect(pages.map((p) => [p.number, p.first, p.last, p.numberOfElements])).toEqual([
      [0, true, false, 3],
      [1, false, false, 3],
      [2, false, true, 2],
    ]);
    for (const p of pages)
      expect(p).toMatchObject({ totalElements: 8, totalPages: 3, size: 3, totalElementsExact: true });
    expect((await f.get("logs?page=3&size=3")).body).toMatchObject({
      content: [],
      empty: true,
      last: true,
      number: 3,
    });
  });

  test("filters apply to totals as to content", async () => {
    await f.write({ level: "ERROR" }, { level: "ERROR" }, { level: "INFO" });
    expect((await f.get("logs?level=ERROR&size=1")).body).toMatchObject({ totalElements: 2, totalPages: 2 });
  });
});

describe("totals", () => {
  test("past the exact-count bound the total is still exact (from the rollups), and a page reads only its rows", async () => {
    const t = Date.now() - 3_600_000;
    const batch = (from: number) =>
      Array.from({ length: 2000 }, (_, i) => ({ message: `bulk ${from + i}`, timestamp: t + from + i }));
    for (let from = 0; from < 12_000; from += 2000) await f.write(...batch(from));
    const r = await f.get("logs?size=5");
    expect(r.body.totalElementsExact).toBe(true);
    expect(r.body.totalElements).toBe(12_000);
    expect(r.body.numberOfElements).toBe(5);
    expect(r.body.last).toBe(false);
    const narrow = await f.get(`logs?${qs({ size: 5, startTime: t, endTime: t + 99 })}`);
    expect(narrow.body).toMatchObject({ totalElements: 100, totalElementsExact: true });
  });
});

describe("cursor paging", () => {
  test("follows nextCursor to the end with no gap and no duplicate while events arrive", async () => {
    const base = Date.now() - 600_000;
    // 30 events, some sharing a timestamp, so the keyset must break ties by id.
    const initial = await f.write(
      ...Array.from({ length: 30 }, (_, i) => ({
        id: `init-${String(i).padStart(2, "0")}`,
        timestamp: base + Math.floor(i / 3) * 1000,
      })),
    );
    const seen: string[] = [];
    let r = await f.get("logs?size=7");
    const snapshotCursor = r.body.nextCursor;
    let round = 0;
    for (;;) {
      seen.push(...ids(r.body));
      // Between fetches: newer events, late events inside the part not yet listed, and exact timestamp ties.
      await f.write(
        { id: `new-${round}`, timestamp: Date.now() },
        { id: `late-${round}`, timestamp: base + 500 },
        { id: `tie-${round}`, timestamp: base + 2000 },
      );
      round++;
      if (r.body.last) break;
      expect(r.body.number).toBe(0);
      r = await f.get(`logs?${qs({ size: 7, cursor: r.body.nextCursor })}`);
      expect(r.body.first).toBe(false);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.toSorted()).toEqual(initial.map((e) => e.id).toSorted());
    expect(round).toBe(5);
    // The snapshot also fixes the totals of every page.
    expect((await f.get(`logs?${qs({ size: 7, cursor: snapshotCursor })}`)).body.totalElements).toBe(30);
  });

  test("any item's cursor continues the listing right after that item", async () => {
    const t = Date.now() - 60_000;
    await f.write(...Array.from({ length: 6 }, (_, i) => ({ id: `x${i}`, timestamp: t + i })));
    const first = (await f.get("logs")).body;
    const third = first.content[2];
    const rest = (await f.get(`logs?${qs({ cursor: third.cursor })}`)).body;
    expect(ids(rest)).toEqual(ids(first).slice(3));
  });

  test("the cursor keeps the filters the client sends with it", async () => {
    const t = Date.now() - 60_000;
    await f.write(
      ...Array.from(
        { length: 6 },
        (_, i) => ({ id: `y${i}`, level: i % 2 ? "ERROR" : "INFO", timestamp: t + i }) as const,
      ),
    );
    const p1 = (await f.get("logs?level=ERROR&size=2")).body;
    const p2 = (await f.get(`logs?${qs({ level: "ERROR", size: 2, cursor: p1.nextCursor })}`)).body;
    expect([...ids(p1), ...ids(p2)]).toEqual(["y5", "y3", "y1"]);
    expect(p2.last).toBe(true);
  });
});
