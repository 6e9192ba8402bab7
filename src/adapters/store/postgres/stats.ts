// Stats from the rollups only: totals by level and source and a histogram, all over the same window.

import type { Level } from "../../../domain/level.ts";
import type { HistogramBucket, Stats, StatsQuery } from "../../../domain/query.ts";
import type { Sql } from "./connect.ts";
import { HOUR, hourCover, inMinutes, MINUTE, windowMinutes } from "./rollup.ts";
import { at } from "./rows.ts";

/** Past this many buckets only the non-empty ones are listed. */
const MAX_FILLED_BUCKETS = 100_000;

/** A level's count in the bucket starting at `bucket` (source null), or a source's count over the window (level null). */
interface StatsRow {
  level: Level | null;
  source: string | null;
  bucket: Date | null;
  n: string;
}

/**
 * The window starts at the minute holding q.start (the rollups' grain) and ends at q.end; bucket k covers
 * [from + k·bucketMs, from + (k+1)·bucketMs). Levels and histogram come from the minute × level rollup,
 * sources from hours and minutes (see hourCover): every source of counts covers the same minutes, so
 * totalLogs = Σ levelCounts = Σ sourceCounts. One statement, so one snapshot for all of them, and one
 * round trip.
 */
export const createStats =
  (sql: Sql) =>
  async (q: StatsQuery): Promise<Stats> => {
    const bucketMs = q.bucketMs;
    if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0)
      throw new RangeError("bucketMs must be a positive integer");
    const w = windowMinutes(q.start, q.end);
    const cover = hourCover(w.from, w.to);
    const hours = cover.hours
      ? sql`hour >= ${at(cover.hours.from)} and hour <= ${at(cover.hours.to - HOUR)}`
      : sql`false`;
    // date_bin: bins of exact interval arithmetic, several times cheaper here than epoch arithmetic.
    const rows = await sql<StatsRow[]>`
      select level, null as source,
          date_bin(${`${bucketMs} milliseconds`}::interval, minute, ${at(w.from)}) as bucket, sum(count) as n
        from log_rollup_minute_level where minute >= ${at(w.from)} and minute <= ${at(w.to - MINUTE)}
        group by 1, 3
      union all
      select null, source, null, sum(n) from (
        select source, count as n from log_rollup_hour where ${hours}
        union all
        select source, count from log_rollup_minute where ${inMinutes(sql, cover.plus)}
        union all
        select source, -count from log_rollup_minute where ${inMinutes(sql, cover.minus)}
      ) r group by source having sum(n) <> 0`;
    const levelCounts: Partial<Record<Level, number>> = {};
    const sourceCounts: Record<string, number> = {};
    const buckets = new Map<number, HistogramBucket>();
    let totalLogs = 0;
    for (const r of rows) {
      const n = Number(r.n);
      if (r.source !== null) {
        sourceCounts[r.source] = n;
        continue;
      }
      const level = r.level as Level;
      levelCounts[level] = (levelCounts[level] ?? 0) + n;
      totalLogs += n;
      const start = (r.bucket as Date).getTime();
      const b = buckets.get(start) ?? { start, count: 0, levels: {} };
      b.count += n;
      b.levels[level] = (b.levels[level] ?? 0) + n;
      buckets.set(start, b);
    }
    const histogram: HistogramBucket[] = [];
    if (Math.floor((q.end - w.from) / bucketMs) + 1 <= MAX_FILLED_BUCKETS)
      for (let start = w.from; start <= q.end; start += bucketMs)
        histogram.push(buckets.get(start) ?? { start, count: 0, levels: {} });
    else histogram.push(...[...buckets.values()].sort((a, b) => a.start - b.start));
    return { totalLogs, levelCounts, sourceCounts, histogram };
  };
