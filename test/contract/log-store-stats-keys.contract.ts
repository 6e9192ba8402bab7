// Stats keyed by client text, for every store: sources named like JavaScript's own properties count like any
// other name, and only the largest STATS_MAX_SOURCES sources are listed while the totals still add up.

import { afterEach, beforeEach, describe, expect, it } from "bun:test";
import fc from "fast-check";
import { LEVELS, type Level } from "../../src/domain/level.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { statsJson } from "../../src/domain/page-shape.ts";
import { batchOf, event, type StoreUnderTest } from "./log-store.contract.ts";

const MINUTE = 60_000;
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;

/** Every name an object or function inherits, and the few with special meaning in plain objects. */
export const PROPERTY_NAMES: readonly string[] = [
  ...new Set([
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "valueOf",
    "hasOwnProperty",
    ...Object.getOwnPropertyNames(Object.prototype),
    ...Object.getOwnPropertyNames(Function.prototype),
    ...Object.getOwnPropertyNames(Array.prototype),
    ...Object.getOwnPropertyNames(String.prototype),
  ]),
];

const sum = (xs: Iterable<number>): number => [...xs].reduce((a, b) => a + b, 0);
const sorted = (o: object) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export const statsKeysContract = (name: string, make: () => Promise<StoreUnderTest>) => {
  describe(`${name} stats keyed by client text`, () => {
    let store: StoreUnderTest;
    let offset = 0;
    const write = async (events: LogEvent[]) => {
      await store.writer.write(batchOf(events, { from: offset }));
      offset += events.length;
    };
    const window = { start: T0, end: T0 + 5 * MINUTE - 1, bucketMs: MINUTE };

    beforeEach(async () => {
      store = await make();
      offset = 0;
    });
    afterEach(async () => {
      await store.cleanup();
    });

    it("counts sources named like JavaScript's own properties exactly, in memory and in JSON", async () => {
      const bySource = new Map<string, number>();
      const byLevel = new Map<Level, number>();
      const spec = fc.record({
        source: fc.constantFrom(...PROPERTY_NAMES),
        level: fc.constantFrom(...LEVELS),
        minute: fc.integer({ min: 0, max: 4 }),
      });
      // Every name once first, so that none depends on the draw; the runs then add random mixes.
      await write(
        PROPERTY_NAMES.map((source, i) => event({ source, level: "INFO", timestamp: T0 + (i % 5) * MINUTE })),
      );
      for (const source of PROPERTY_NAMES) bySource.set(source, 1);
      byLevel.set("INFO", PROPERTY_NAMES.length);
      await fc.assert(
        fc.asyncProperty(fc.array(spec, { minLength: 1, maxLength: 25 }), async (specs) => {
          // Each run adds to the same window: the expectation accumulates with it.
          await write(
            specs.map((s) => event({ source: s.source, level: s.level, timestamp: T0 + s.minute * MINUTE })),
          );
          for (const s of specs) {
            bySource.set(s.source, (bySource.get(s.source) ?? 0) + 1);
            byLevel.set(s.level, (byLevel.get(s.level) ?? 0) + 1);
          }
          const stats = await store.reader.stats({ ...window, maxSources: PROPERTY_NAMES.length });
          expect(sorted(stats.sourceCounts)).toEqual(sorted(Object.fromEntries(bySource)));
          expect(sorted(stats.levelCounts)).toEqual(sorted(Object.fromEntries(byLevel)));
          expect(stats.otherSources).toBe(0);
          expect(stats.totalLogs).toBe(sum(bySource.values()));
          const json = JSON.parse(JSON.stringify(statsJson(stats, window.start, window.end)));
          expect(sorted(json.sourceCounts)).toEqual(sorted(Object.fromEntries(bySource)));
          for (const bucket of json.histogram)
            expect(sum(Object.values(bucket.levels) as number[])).toBe(bucket.count);
        }),
        { numRuns: 20 },
      );
      expect(bySource.size).toBeGreaterThan(5);
    });

    it("lists the largest maxSources sources (ties by name) and sums the rest in otherSources", async () => {
      // Source i has i + 1 events; two pairs tie so that the cut falls between names of equal count.
      const names = PROPERTY_NAMES.slice(0, 12);
      const counts = names.map((_, i) => (i === 8 ? 8 : i + 1));
      const events = names.flatMap((source, i) =>
        Array.from({ length: counts[i] ?? 0 }, (_, k) => event({ source, timestamp: T0 + (k % 5) * MINUTE })),
      );
      await write(events);
      const stats = await store.reader.stats({ ...window, maxSources: 4 });
      const expected = names
        .map((source, i) => [source, counts[i] ?? 0] as const)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      expect(sorted(stats.sourceCounts)).toEqual(sorted(Object.fromEntries(expected.slice(0, 4))));
      expect(stats.otherSources).toBe(sum(expected.slice(4).map((e) => e[1])));
      expect(sum(Object.values(stats.sourceCounts)) + stats.otherSources).toBe(stats.totalLogs);
      expect(stats.totalLogs).toBe(events.length);
    });
  });
};
