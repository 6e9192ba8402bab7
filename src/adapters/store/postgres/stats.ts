// Stats from the rollups only: totals by level and source and a histogram, all over the same window.

import type { Level } from "../../../domain/level.ts";
import type { HistogramBucket, Stats, StatsQuery } from "../../../domain/query.ts";
import type { Sql } from "./connect.ts";
import { hoursOf, MINUTE, minutesAround, windowMinutes } from "./rollup.ts";
import { at } from "./rows.ts";

/** Past this many buckets only the non-empty ones are listed. */
const MAX_FILLED_BUCKETS = 100_000;

/**
 * The window starts at the minute holding q.start (the rollups' grain) and ends at q.end; bucket k covers
 * [from + k·bucketMs, from + (k+1)·bucketMs). Levels and histogram come from the minute × level rollup,
 * sources from whole hours plus edge minutes: every source of counts covers the same minutes, so
 * totalLogs = Σ levelCounts = Σ sourceCounts.
 */
export const createStats =
  (sql: Sql) =>
  async (q: StatsQuery): Promise<Stats> => {
    const bucketMs = q.bucketMs;
    if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0)
      throw new RangeError("bucketMs must be a positive integer");
    const w = windowMinutes(q.start, q.end);
    // One snapshot for both reads: a commit between them would break the sums.
    const [levels, sources] = await sql.begin("isolation level repeatable read read only", (tx) => [
      tx<{ level: Level; bucket: string | null; n: string }[]>`
        select level, bucket, sum(count) as n from (
          select level, count,
            floor((extract(epoch from minute) * 1000 - ${w.from}::bigint) / ${bucketMs}::bigint)::bigint as bucket
          from log_rollup_minute_level where minute >= ${at(w.from)} and minute <= ${at(w.to - MINUTE)}
        ) r
        group by grouping sets ((level), (bucket, level))`,
      tx<{ source: string; n: string }[]>`
        select source, sum(n) as n from (
          select source, count as n from log_rollup_hour where ${hoursOf(tx, w)}
          union all
          select source, count from log_rollup_minute where ${minutesAround(tx, w)}
        ) r group by source`,
    ]);
    const levelCounts: Partial<Record<Level, number>> = {};
    const sourceCounts: Record<string, number> = {};
    const buckets = new Map<number, HistogramBucket>();
    let totalLogs = 0;
    for (const r of levels) {
      const n = Number(r.n);
      if (r.bucket === null) {
        levelCounts[r.level] = n;
        totalLogs += n;
        continue;
      }
      const start = w.from + Number(r.bucket) * bucketMs;
      const b = buckets.get(start) ?? { start, count: 0, levels: {} };
      b.count += n;
      b.levels[r.level] = (b.levels[r.level] ?? 0) + n;
      buckets.set(start, b);
    }
    for (const r of sources) sourceCounts[r.source] = Number(r.n);
    const histogram: HistogramBucket[] = [];
    if (Math.floor((q.end - w.from) / bucketMs) + 1 <= MAX_FILLED_BUCKETS)
      for (let start = w.from; start <= q.end; start += bucketMs)
        histogram.push(buckets.get(start) ?? { start, count: 0, levels: {} });
    else histogram.push(...[...buckets.values()].sort((a, b) => a.start - b.start));
    return { totalLogs, levelCounts, sourceCounts, histogram };
  };
