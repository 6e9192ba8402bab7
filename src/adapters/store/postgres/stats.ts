// Stats from the rollups only: totals by level and source and a histogram, all over the same window.

import { emptyCounts } from "../../../domain/counts.ts";
import type { Level } from "../../../domain/level.ts";
import type { HistogramBucket, LevelCounts, Stats, StatsQuery } from "../../../domain/query.ts";
import type { Queryable, Sql } from "./connect.ts";
import { HOUR, hourCover, inMinutes, MINUTE, windowMinutes } from "./rollup.ts";
import { at } from "./rows.ts";

/** Past this many buckets only the non-empty ones are listed. */
const MAX_FILLED_BUCKETS = 100_000;

interface LevelRow {
  level: Level;
  bucket: Date;
  n: string;
}

interface SourceRow {
  source: string;
  n: string;
  /** The sum over every source, listed or not (the same on every row). */
  total: string;
}

const sum = (rows: { n: string }[]) => rows.reduce((a, r) => a + Number(r.n), 0);
const sumOfAll = (rows: SourceRow[]) => Number(rows[0]?.total ?? 0);

/**
 * The window starts at the minute holding q.start (the rollups' grain) and ends at q.end; bucket k covers
 * [from + k·bucketMs, from + (k+1)·bucketMs). Levels and histogram come from the minute × level rollup,
 * sources from hours and minutes (see hourCover): every source of counts covers the same minutes, so
 * totalLogs = Σ levelCounts = Σ sourceCounts + otherSources. Only the q.maxSources largest sources are listed
 * (ties by name): a client that invents a million source names does not make every answer a million long.
 *
 * The two halves run at once on two connections (each about half the work), each in a snapshot of its own.
 * Writers only add to the rollups, each write in one transaction, so two snapshots differ by whole writes: either these add nothing to the window, and no figure changes, or
 * Σ levels ≠ Σ sources. Only then are both read again, in one transaction.
 */
export const createStats =
  (sql: Sql) =>
  async (q: StatsQuery): Promise<Stats> => {
    const bucketMs = q.bucketMs;
    if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0)
      throw new RangeError("bucketMs must be a positive integer");
    const w = windowMinutes(q.start, q.end);
    const cover = hourCover(w.from, w.to);
    // date_bin: bins of exact interval arithmetic, several times cheaper here than epoch arithmetic.
    const levelsIn = (db: Queryable) => db<LevelRow[]>`
      select level, date_bin(${`${bucketMs} milliseconds`}::interval, minute, ${at(w.from)}) as bucket,
        sum(count) as n
      from log_rollup_minute_level where minute >= ${at(w.from)} and minute <= ${at(w.to - MINUTE)}
      group by 1, 2`;
    const hoursIn = (db: Queryable) =>
      cover.hours ? db`hour >= ${at(cover.hours.from)} and hour <= ${at(cover.hours.to - HOUR)}` : db`false`;
    const sourcesIn = (db: Queryable) => db<SourceRow[]>`
      select source, n, sum(n) over () as total from (
        select source, sum(n) as n from (
          select source, count as n from log_rollup_hour where ${hoursIn(db)}
          union all
          select source, count from log_rollup_minute where ${inMinutes(db, cover.plus)}
          union all
          select source, -count from log_rollup_minute where ${inMinutes(db, cover.minus)}
        ) r group by source having sum(n) <> 0
      ) s order by n desc, source collate "C" limit ${q.maxSources}`;
    let [levels, sources] = await Promise.all([levelsIn(sql), sourcesIn(sql)]);
    if (sum(levels) !== sumOfAll(sources))
      [levels, sources] = await sql.begin("isolation level repeatable read read only", (tx) => [
        levelsIn(tx),
        sourcesIn(tx),
      ]);
    const levelCounts = emptyCounts<LevelCounts>();
    const sourceCounts = emptyCounts();
    const buckets = new Map<number, HistogramBucket>();
    let totalLogs = 0;
    for (const r of sources) sourceCounts[r.source] = Number(r.n);
    for (const r of levels) {
      const n = Number(r.n);
      levelCounts[r.level] = (levelCounts[r.level] ?? 0) + n;
      totalLogs += n;
      const start = r.bucket.getTime();
      const b = buckets.get(start) ?? { start, count: 0, levels: emptyCounts<LevelCounts>() };
      b.count += n;
      b.levels[r.level] = (b.levels[r.level] ?? 0) + n;
      buckets.set(start, b);
    }
    const histogram: HistogramBucket[] = [];
    if (Math.floor((q.end - w.from) / bucketMs) + 1 <= MAX_FILLED_BUCKETS)
      for (let start = w.from; start <= q.end; start += bucketMs)
        histogram.push(buckets.get(start) ?? { start, count: 0, levels: emptyCounts<LevelCounts>() });
    else histogram.push(...[...buckets.values()].sort((a, b) => a.start - b.start));
    const otherSources = sumOfAll(sources) - sum(sources);
    return { totalLogs, levelCounts, sourceCounts, otherSources, histogram };
  };
