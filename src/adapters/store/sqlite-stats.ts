// Embedded stats from the rollups only: levels and the histogram from minute × level, sources from whole
// hours plus the edge minutes, all over the same minutes, so totalLogs = Σ levelCounts = Σ sourceCounts.

import type { Database } from "bun:sqlite";
import type { Level } from "../../domain/level.ts";
import type { HistogramBucket, Stats, StatsQuery } from "../../domain/query.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

export const createSqliteStats = (db: Database) => {
  const levelsIn = db.query<{ minute: number; level: Level; n: number }, [number, number]>(
    "SELECT minute, level, count AS n FROM log_rollup_minute_level WHERE minute >= ? AND minute < ?",
  );
  const sourcesByHour = db.query<{ source: string; n: number }, [number, number]>(
    "SELECT source, sum(count) AS n FROM log_rollup_hour WHERE hour >= ? AND hour < ? GROUP BY source",
  );
  const sourcesByMinute = db.query<{ source: string; n: number }, [number, number]>(
    "SELECT source, sum(count) AS n FROM log_rollup_minute WHERE minute >= ? AND minute < ? GROUP BY source",
  );

  /** The window runs from the minute holding q.start to q.end; bucket k covers [from + k·bucketMs, …). */
  return (q: StatsQuery): Stats =>
    db.transaction((): Stats => {
      const from = Math.floor(q.start / MINUTE) * MINUTE;
      const to = Math.floor(q.end / MINUTE) * MINUTE + MINUTE;
      const hFrom = Math.ceil(from / HOUR) * HOUR;
      const hTo = Math.floor(to / HOUR) * HOUR;
      const sources = new Map<string, number>();
      const add = (rows: { source: string; n: number }[]) => {
        for (const r of rows) sources.set(r.source, (sources.get(r.source) ?? 0) + r.n);
      };
      if (hFrom < hTo) {
        add(sourcesByMinute.all(from, hFrom));
        add(sourcesByHour.all(hFrom, hTo));
        add(sourcesByMinute.all(hTo, to));
      } else add(sourcesByMinute.all(from, to));

      const levelCounts: Partial<Record<Level, number>> = {};
      const buckets = new Map<number, HistogramBucket>();
      let totalLogs = 0;
      for (const r of levelsIn.all(from, to)) {
        totalLogs += r.n;
        levelCounts[r.level] = (levelCounts[r.level] ?? 0) + r.n;
        const start = from + Math.floor((r.minute - from) / q.bucketMs) * q.bucketMs;
        const b = buckets.get(start) ?? { start, count: 0, levels: {} };
        b.count += r.n;
        b.levels[r.level] = (b.levels[r.level] ?? 0) + r.n;
        buckets.set(start, b);
      }
      const histogram: HistogramBucket[] = [];
      for (let start = from; start <= q.end; start += q.bucketMs)
        histogram.push(buckets.get(start) ?? { start, count: 0, levels: {} });
      // Sources come out as a plain object (the API's shape) built without a prototype: a source named
      // "__proto__" or "constructor" is a count like any other.
      const sourceCounts = Object.create(null) as Record<string, number>;
      for (const [source, n] of sources) sourceCounts[source] = n;
      return { totalLogs, levelCounts, sourceCounts, histogram };
    })();
};
