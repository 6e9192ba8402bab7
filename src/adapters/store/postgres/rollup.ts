// Counting from the rollups: whole hours from the hour rollup, the minutes around them from a minute rollup.

import type { LogFilter } from "../../../domain/query.ts";
import type { Queryable as Sql } from "./connect.ts";
import { at } from "./rows.ts";

export const MINUTE = 60_000;
export const HOUR = 3_600_000;

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

/** Minutes [from, to), with `to` exclusive. */
export interface Span {
  from: number;
  to: number;
}

/**
 * Whole minutes [from, to) as whole hours [hours.from, hours.to) plus the `plus` minutes less the `minus`
 * ones, reading as few minute rows as it can: a partial hour of more than 30 minutes is taken as its whole
 * hour less the minutes outside the window, so no more than 30 minutes are read at either end. Exact as
 * long as every hour row is the sum of its minute rows, which the writer keeps in one transaction.
 */
export const hourCover = (from: number, to: number): { hours?: Span; plus: Span[]; minus: Span[] } => {
  const plus: Span[] = [];
  const minus: Span[] = [];
  const add = (list: Span[], a: number, b: number) => {
    if (a < b) list.push({ from: a, to: b });
  };
  let lo = Math.ceil(from / HOUR) * HOUR;
  let hi = Math.floor(to / HOUR) * HOUR;
  if (lo > hi) {
    // Inside one hour.
    if (to - from <= HOUR / 2) return { plus: [{ from, to }], minus };
    lo = hi;
    hi = lo + HOUR;
    add(minus, lo, from);
    add(minus, to, hi);
    return { hours: { from: lo, to: hi }, plus, minus };
  }
  if (lo - from > HOUR / 2) {
    add(minus, lo - HOUR, from);
    lo -= HOUR;
  } else add(plus, from, lo);
  if (to - hi > HOUR / 2) {
    add(minus, to, hi + HOUR);
    hi += HOUR;
  } else add(plus, hi, to);
  return lo < hi ? { hours: { from: lo, to: hi }, plus, minus } : { plus, minus };
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
