// Counting from the rollups: whole hours from the hour rollup, the minutes around them from a minute rollup.

import type { LogFilter } from "../../../domain/query.ts";
import { HOUR, MINUTE, type Span } from "../hour-cover.ts";
import type { Queryable as Sql } from "./connect.ts";
import { at } from "./rows.ts";

export { HOUR, hourCover, MINUTE, type Span } from "../hour-cover.ts";

/** Whole minutes [from, to) split into whole hours [h0, h1) and the minutes before and after them. */
export interface MinuteRange {
  from: number;
  to: number;
  h0: number;
  h1: number;
}

export const minuteRange = (from: number, to: number): MinuteRange => {
  const h0 = Math.ceil(from / HOUR) * HOUR;
  const h1 = Math.floor(to / HOUR) * HOUR;
  return h0 < h1 ? { from, to, h0, h1 } : { from, to, h0: to, h1: to };
};

/** The minutes of a rollup window: from the minute holding `start` through the minute holding `end`. */
export const windowMinutes = (start: number, end: number): MinuteRange =>
  minuteRange(Math.floor(start / MINUTE) * MINUTE, Math.floor(end / MINUTE) * MINUTE + MINUTE);

// Upper bounds are inclusive (last minute, last hour): an exclusive bound could be 10000-01-01, which
// PostgreSQL cannot parse back from ISO text.
const none = (sql: Sql) => sql`false`;

export const hoursOf = (sql: Sql, r: MinuteRange) =>
  r.h0 < r.h1 ? sql`hour >= ${at(r.h0)} and hour <= ${at(r.h1 - HOUR)}` : none(sql);

export const minutesAround = (sql: Sql, r: MinuteRange) => {
  if (r.h0 >= r.h1) return sql`minute >= ${at(r.from)} and minute <= ${at(r.to - MINUTE)}`;
  const before =
    r.from < r.h0 ? sql`(minute >= ${at(r.from)} and minute <= ${at(r.h0 - MINUTE)})` : none(sql);
  const after = r.h1 < r.to ? sql`(minute >= ${at(r.h1)} and minute <= ${at(r.to - MINUTE)})` : none(sql);
  return sql`(${before} or ${after})`;
};

/** Rollup rows of the minutes in any of the spans (inclusive upper bounds, as above). */
export const inMinutes = (sql: Sql, spans: Span[]) =>
  spans.length
    ? spans
        .map((s) => sql`(minute >= ${at(s.from)} and minute <= ${at(s.to - MINUTE)})`)
        .reduce((acc, c) => sql`${acc} or ${c}`)
    : none(sql);

const lists = (sql: Sql, f: Pick<LogFilter, "levels" | "sources">) => sql`
  ${f.levels.length ? sql`and level in ${sql(f.levels)}` : sql``}
  ${f.sources.length ? sql`and source in ${sql(f.sources)}` : sql``}`;

/**
 * Without a source filter the edge minutes come from the minute × level rollup: 6 rows a minute instead of
 * one per level and source (hundreds), with the same sums, since both are kept in the same transaction.
 */
const rollupSum = (sql: Sql, r: MinuteRange, f: Pick<LogFilter, "levels" | "sources">) => sql`
  (select coalesce(sum(count), 0) from log_rollup_hour where ${hoursOf(sql, r)} ${lists(sql, f)})
  + (select coalesce(sum(count), 0) from ${sql(f.sources.length ? "log_rollup_minute" : "log_rollup_minute_level")}
     where ${minutesAround(sql, r)} ${lists(sql, f)})`;

/** Events in the minutes the window touches (the window's edge minutes counted whole): an estimate. */
export const rollupCount = async (sql: Sql, f: LogFilter): Promise<number> => {
  const [row] = await sql<{ n: string }[]>`select ${rollupSum(sql, windowMinutes(f.start, f.end), f)} as n`;
  return Number(row?.n ?? 0);
};

/**
 * Exact count of the window, cheap at any size: the whole minutes inside it from the rollups, the partial
 * minutes at its two ends from the rows. One statement, so one snapshot of rows and rollups alike.
 */
export const exactCount = async (sql: Sql, f: LogFilter): Promise<number> => {
  const [row] = await sql<{ n: string }[]>`select ${exactCountSql(sql, f)} as n`;
  return Number(row?.n ?? 0);
};

/** exactCount as an SQL expression, to be part of a larger statement (and of its snapshot). */
export const exactCountSql = (sql: Sql, f: LogFilter) => {
  const firstFull = Math.ceil(f.start / MINUTE) * MINUTE;
  const endFull = Math.floor((f.end + 1) / MINUTE) * MINUTE;
  const rows = (from: number, to: number) =>
    from > to
      ? sql`0`
      : sql`(select count(*) from log_events where ts >= ${at(from)} and ts <= ${at(to)} ${lists(sql, f)})`;
  return firstFull >= endFull
    ? rows(f.start, f.end)
    : sql`(${rows(f.start, firstFull - 1)} + ${rows(endFull, f.end)}
        + ${rollupSum(sql, minuteRange(firstFull, endFull), f)})`;
};
