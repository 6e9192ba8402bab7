// Stats over HTTP: totals, level and source counts and the histogram all describe one and the same window.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGatewayFixture, eventually, type GatewayFixture } from "./gateway-fixture.ts";

let f: GatewayFixture;
const HOUR = 3_600_000;
const now = Date.now();

beforeAll(async () => {
  f = await createGatewayFixture();
  await f.write(
    { level: "INFO", source: "api", timestamp: now - 10 * 60_000 },
    { level: "INFO", source: "api", timestamp: now - 20 * 60_000 },
    { level: "ERROR", source: "db", timestamp: now - 30 * 60_000 },
    { level: "WARN", source: "db", timestamp: now - 5 * HOUR },
    { level: "FATAL", source: "batch", timestamp: now - 30 * HOUR },
    { level: "DEBUG", source: "batch", timestamp: now - 400 * 24 * HOUR },
  );
});
afterAll(() => f.close());

interface StatsBody {
  totalLogs: number;
  levelCounts: Record<string, number>;
  sourceCounts: Record<string, number>;
  otherSources: number;
  timeRange: { since: string; until: string };
  histogram: { start: string; count: number; levels: Record<string, number> }[];
}

const stats = async (query = ""): Promise<StatsBody> => {
  const r = await f.get(`stats${query}`);
  expect(r.status).toBe(200);
  return r.body;
};

const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);

const expectConsistent = (s: StatsBody): void => {
  expect(sum(s.levelCounts)).toBe(s.totalLogs);
  expect(sum(s.sourceCounts) + s.otherSources).toBe(s.totalLogs);
  expect(s.histogram.reduce((a, b) => a + b.count, 0)).toBe(s.totalLogs);
  for (const b of s.histogram) expect(sum(b.levels)).toBe(b.count);
  const levelsInBuckets: Record<string, number> = {};
  for (const b of s.histogram)
    for (const [l, n] of Object.entries(b.levels)) levelsInBuckets[l] = (levelsInBuckets[l] ?? 0) + n;
  expect(levelsInBuckets).toEqual(s.levelCounts);
};

describe("stats", () => {
  test("cover the last 24 hours by default, every figure over the same window", async () => {
    const s = await stats();
    expect(s.totalLogs).toBe(4);
    expect(s.levelCounts).toEqual({ INFO: 2, ERROR: 1, WARN: 1 });
    expect(s.sourceCounts).toEqual({ api: 2, db: 2 });
    expectConsistent(s);
  });

  test("hoursBack narrows or widens the window, and every figure follows", async () => {
    const one = await stats("?hoursBack=1");
    expect(one.totalLogs).toBe(3);
    expectConsistent(one);
    const week = await stats("?hoursBack=168");
    expect(week.totalLogs).toBe(5);
    expect(week.sourceCounts.batch).toBe(1);
    expectConsistent(week);
    const year = await stats("?hoursBack=8760");
    expect(year.totalLogs).toBe(5);
    expectConsistent(year);
  });

  test("the time range and histogram buckets span the window in order, at most about 60 buckets", async () => {
    for (const hoursBack of [1, 24, 168, 8760]) {
      const s = await stats(`?hoursBack=${hoursBack}`);
      const since = Date.parse(s.timeRange.since);
      const until = Date.parse(s.timeRange.until);
      expect(until - since).toBeGreaterThanOrEqual(hoursBack * HOUR);
      expect(until - since).toBeLessThan(hoursBack * HOUR + 60_000);
      expect(since % 60_000).toBe(0);
      expect(s.histogram.length).toBeLessThanOrEqual(62);
      expect(Date.parse(s.histogram[0]?.start ?? "")).toBe(since);
      const starts = s.histogram.map((b) => Date.parse(b.start));
      const width = (starts[1] ?? 0) - (starts[0] ?? 0);
      expect(width % 60_000).toBe(0);
      starts.forEach((start, i) => {
        expect(start).toBe(since + i * width);
      });
      expect(starts.at(-1) ?? 0).toBeLessThanOrEqual(until);
    }
  });

  test("a new event shows in repeated stats within the live bound", async () => {
    const before = (await stats()).totalLogs;
    await f.write({ level: "TRACE", source: "new" });
    expect(await eventually(async () => (await stats()).totalLogs === before + 1)).toBe(true);
    const s = await stats();
    expect(s.levelCounts.TRACE).toBe(1);
    expectConsistent(s);
  });
});

describe("sources named by clients", () => {
  test("JavaScript's own property names count like any name; only STATS_MAX_SOURCES are listed", async () => {
    const g = await createGatewayFixture({ env: { STATS_MAX_SOURCES: "3" } });
    try {
      // Pairs, not an object literal: in a literal, `__proto__: 4` is no key at all.
      const counts: [string, number][] = [
        ["constructor", 5],
        ["__proto__", 4],
        ["toString", 3],
        ["hasOwnProperty", 2],
        ["valueOf", 1],
      ];
      for (const [source, n] of counts)
        await g.write(...Array.from({ length: n }, () => ({ source, timestamp: now - 60_000 })));
      const r = await g.get("stats?hoursBack=1");
      expect(r.status).toBe(200);
      const s: StatsBody = r.body;
      expect(Object.entries(s.sourceCounts)).toEqual([
        ["constructor", 5],
        ["__proto__", 4],
        ["toString", 3],
      ]);
      expect(s.otherSources).toBe(3);
      expect(s.totalLogs).toBe(15);
      expectConsistent(s);
    } finally {
      await g.close();
    }
  });
});
