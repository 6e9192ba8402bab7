// PostgreSQL stats against the events themselves, for windows cut anywhere around hour boundaries.

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import fc from "fast-check";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { LEVELS, type Level } from "../../src/domain/level.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { Stats } from "../../src/domain/query.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { batchOf } from "../helpers/write-batch.ts";

// bunfig.toml's [test] timeout is not applied by Bun 1.4.5; these suites talk to a real PostgreSQL.
setDefaultTimeout(120_000);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const START = END - 5 * HOUR;
const SOURCES = ["api", "web", "db", "queue"];

/** What the stats of [start, end] must say: the window runs from the minute holding start through end. */
const reference = (events: LogEvent[], start: number, end: number, bucketMs: number): Stats => {
  const from = Math.floor(start / MINUTE) * MINUTE;
  const inside = events.filter(
    (e) => e.timestamp >= from && Math.floor(e.timestamp / MINUTE) * MINUTE <= end,
  );
  const levelCounts: Partial<Record<Level, number>> = {};
  const sourceCounts: Record<string, number> = {};
  const buckets = new Map<number, { start: number; count: number; levels: Partial<Record<Level, number>> }>();
  for (const e of inside) {
    levelCounts[e.level] = (levelCounts[e.level] ?? 0) + 1;
    sourceCounts[e.source] = (sourceCounts[e.source] ?? 0) + 1;
  }
  for (let b = from; b <= end; b += bucketMs) buckets.set(b, { start: b, count: 0, levels: {} });
  for (const e of inside) {
    const b = buckets.get(from + Math.floor((e.timestamp - from) / bucketMs) * bucketMs);
    if (!b) continue;
    b.count++;
    b.levels[e.level] = (b.levels[e.level] ?? 0) + 1;
  }
  return {
    totalLogs: inside.length,
    levelCounts,
    sourceCounts,
    otherSources: 0,
    histogram: [...buckets.values()],
  };
};

describe("postgres stats", () => {
  const schema = uniqueName("t");
  const store = createPostgresStore(testPostgresConfig(), { schema });
  const events: LogEvent[] = fc
    .sample(
      fc.record({
        timestamp: fc.integer({ min: START - HOUR, max: END + HOUR }),
        level: fc.constantFrom(...LEVELS),
        source: fc.constantFrom(...SOURCES),
      }),
      { numRuns: 4000, seed: 9 },
    )
    .map((r, i) => ({ ...r, id: `e${i}`, message: "m", metadata: null }));

  beforeAll(async () => {
    await store.writer.start();
    await store.reader.start();
    await store.writer.write(batchOf(events));
  });
  afterAll(async () => {
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.writer.stop();
    await store.reader.stop();
  });

  it("agrees with the events for any window: whole hours, partial hours read whole or by minute", async () => {
    // Ends on and off the hour, partial hours shorter and longer than half an hour, windows inside one hour.
    const edge = fc.oneof(
      fc.integer({ min: 0, max: 6 * 60 }).map((m) => START + m * MINUTE),
      fc.integer({ min: START, max: END }),
    );
    const window = fc.record({
      start: edge,
      span: fc.oneof(fc.integer({ min: 0, max: 90 * MINUTE }), fc.integer({ min: 0, max: 6 * HOUR })),
      bucketMinutes: fc.constantFrom(1, 5, 30, 60, 180),
    });
    await fc.assert(
      fc.asyncProperty(window, async ({ start, span, bucketMinutes }) => {
        const end = start + span;
        const bucketMs = bucketMinutes * MINUTE;
        const stats = await store.reader.stats({ start, end, bucketMs, maxSources: 100 });
        expect(stats).toEqual(reference(events, start, end, bucketMs));
      }),
      { numRuns: 150, seed: 4 },
    );
  }, 600_000);

  it("keeps every figure over the same events while events are written", async () => {
    const more = (round: number): LogEvent[] =>
      Array.from({ length: 40 }, (_, i) => ({
        id: `w${round}_${i}`,
        level: LEVELS[i % LEVELS.length] as Level,
        source: SOURCES[(round + i) % SOURCES.length] as string,
        message: "m",
        metadata: null,
        timestamp: START + (((round * 40 + i) * 7919) % 300) * MINUTE + i,
      }));
    let writing = true;
    const writes = (async () => {
      for (let round = 0; round < 40; round++)
        await store.writer.write({
          group: "g",
          topic: "logs",
          events: more(round).map((event, i) => ({ event, partition: 1, offset: String(round * 40 + i) })),
          nextOffsets: new Map(),
        });
      writing = false;
    })();
    const sum = (o: Record<string, number | undefined>) =>
      Object.values(o).reduce((a = 0, b = 0) => a + b, 0);
    let checked = 0;
    while (writing || checked === 0) {
      const s = await store.reader.stats({ start: START, end: END, bucketMs: 30 * MINUTE, maxSources: 100 });
      expect([sum(s.levelCounts), sum(s.sourceCounts), s.histogram.reduce((a, b) => a + b.count, 0)]).toEqual(
        [s.totalLogs, s.totalLogs, s.totalLogs],
      );
      checked++;
    }
    await writes;
  });
});
