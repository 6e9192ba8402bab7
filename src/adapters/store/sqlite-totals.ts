// Exact listing totals of the embedded store without counting rows: whole hours and minutes from the rollups,
// the partial minutes at the window's edges and the rows stored after the listing's snapshot counted directly.

import type { Database } from "bun:sqlite";
import { EXACT_TOTAL_BOUND, type LogQuery } from "../../domain/query.ts";
import { type Binding, filterWhere } from "./sqlite-sql.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

const ceilTo = (ms: number, unit: number): number => Math.ceil(ms / unit) * unit;
const floorTo = (ms: number, unit: number): number => Math.floor(ms / unit) * unit;

/** level/source conditions of a filter (without its time bounds), for a rollup or a direct count. */
const extraWhere = (q: LogQuery, hint: "" | "+" = ""): { sql: string; params: Binding[] } => {
  const f = filterWhere({ ...q, start: 0, end: 0 });
  const sql = f.sql.replace("ts >= ? AND ts <= ?", "1");
  return {
    sql: hint ? sql.replaceAll("level IN", "+level IN").replaceAll("source IN", "+source IN") : sql,
    params: f.params.slice(2),
  };
};

export const createTotals = (db: Database) => {
  const one = (sql: string, params: Binding[]): number =>
    db.query<{ n: number | null }, Binding[]>(sql).get(...params)?.n ?? 0;

  /** Rows the rollups hold for [from, to) at this granularity (both bounds whole units). */
  const rolled = (table: "hour" | "minute", from: number, to: number, q: LogQuery): number => {
    if (from >= to) return 0;
    const x = extraWhere(q);
    return one(
      `SELECT sum(count) AS n FROM log_rollup_${table} WHERE ${table} >= ? AND ${table} < ? AND ${x.sql}`,
      [from, to, ...x.params],
    );
  };

  /** Rows counted directly in [from, to), within the snapshot. */
  const counted = (from: number, to: number, q: LogQuery): number => {
    if (from >= to) return 0;
    const x = extraWhere(q);
    const snap = q.maxSeq === undefined ? "" : " AND seq <= ?";
    return one(`SELECT count(*) AS n FROM log_events WHERE ts >= ? AND ts < ? AND ${x.sql}${snap}`, [
      from,
      to,
      ...x.params,
      ...(q.maxSeq === undefined ? [] : [q.maxSeq]),
    ]);
  };

  /**
   * The events of the window (levels, sources, snapshot): exact, unless more than EXACT_TOTAL_BOUND rows
   * were stored after the snapshot (a listing paged long after its first page), when it is the rollup count.
   */
  const count = (q: LogQuery): { total: number; exact: boolean } => {
    const end = q.end + 1; // the window includes its end
    const mFrom = ceilTo(q.start, MINUTE);
    const mTo = floorTo(end, MINUTE);
    if (mFrom >= mTo) return { total: counted(q.start, end, q), exact: true };
    const hFrom = ceilTo(mFrom, HOUR);
    const hTo = floorTo(mTo, HOUR);
    const whole =
      hFrom < hTo
        ? rolled("minute", mFrom, hFrom, q) + rolled("hour", hFrom, hTo, q) + rolled("minute", hTo, mTo, q)
        : rolled("minute", mFrom, mTo, q);
    const edges = counted(q.start, mFrom, q) + counted(mTo, end, q);
    if (q.maxSeq === undefined) return { total: whole + edges, exact: true };
    // Rows of the whole minutes stored after the snapshot are in the rollups but not in the listing.
    // The unary + keeps SQLite on the rowid range (the few newest rows) rather than on a ts index.
    const x = extraWhere(q, "+");
    const newer = one(
      `SELECT count(*) AS n FROM (SELECT 1 FROM log_events WHERE seq > ? AND +ts >= ? AND +ts < ? AND ${x.sql} LIMIT ?)`,
      [q.maxSeq, mFrom, mTo, ...x.params, EXACT_TOTAL_BOUND + 1],
    );
    if (newer > EXACT_TOTAL_BOUND) return { total: whole + edges, exact: false };
    return { total: whole + edges - newer, exact: true };
  };

  return { count };
};
