// Embedded stats from the rollups only: levels and the histogram from minute × level, sources from whole
// hours plus or minus the minutes at the edges (hourCover: at most 30 minute rows read at either end), all
// over the same minutes, so totalLogs = Σ levelCounts = Σ sourceCounts + otherSources (the events of the
// sources past the q.maxSources largest).

import type { Database } from "bun:sqlite";
import { emptyCounts, topCounts } from "../../domain/counts.ts";
import type { Level } from "../../domain/level.ts";
import type { HistogramBucket, LevelCounts, Stats, StatsQuery } from "../../domain/query.ts";
import { hourCover, MINUTE } from "./hour-cover.ts";

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
      const cover = hourCover(from, to);
      const sources = new Map<string, number>();
      const add = (rows: { source: string; n: number }[], sign: 1 | -1) => {
        for (const r of rows) sources.set(r.source, (sources.get(r.source) ?? 0) + sign * r.n);
      };
      if (cover.hours) add(sourcesByHour.all(cover.hours.from, cover.hours.to), 1);
      for (const m of cover.plus) add(sourcesByMinute.all(m.from, m.to), 1);
      for (const m of cover.minus) add(sourcesByMinute.all(m.from, m.to), -1);
      // A source whose only events in the hours fall outside the window sums to 0: it has none here.
      for (const [source, n] of sources) if (n === 0) sources.delete(source);

      const levelCounts = emptyCounts<LevelCounts>();
      const buckets = new Map<number, HistogramBucket>();
      let totalLogs = 0;
      for (const r of levelsIn.all(from, to)) {
        totalLogs += r.n;
        levelCounts[r.level] = (levelCounts[r.level] ?? 0) + r.n;
        const start = from + Math.floor((r.minute - from) / q.bucketMs) * q.bucketMs;
        const b = buckets.get(start) ?? { start, count: 0, levels: emptyCounts<LevelCounts>() };
        b.count += r.n;
        b.levels[r.level] = (b.levels[r.level] ?? 0) + r.n;
        buckets.set(start, b);
      }
      const histogram: HistogramBucket[] = [];
      for (let start = from; start <= q.end; start += q.bucketMs)
        histogram.push(buckets.get(start) ?? { start, count: 0, levels: emptyCounts<LevelCounts>() });
      // Sources come out as an object without a prototype (emptyCounts): a source named "__proto__" or
      // "constructor" is a count like any other.
      const { top, rest } = topCounts(sources, q.maxSources);
      return { totalLogs, levelCounts, sourceCounts: top, otherSources: rest, histogram };
    })();
};
