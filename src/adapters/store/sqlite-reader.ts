// The embedded store's read side: keyset pages, FTS5 search with an exact final filter, rollup stats, tail.

import type { Database } from "bun:sqlite";
import type { Level } from "../../domain/level.ts";
import type { StoredLogEvent } from "../../domain/log-event.ts";
import {
  EXACT_TOTAL_BOUND,
  type LogPage,
  type LogQuery,
  type PageItem,
  type SearchQuery,
  type Stats,
  type StatsQuery,
  type TailQuery,
} from "../../domain/query.ts";
import { hasPositiveTerms, matchTerms } from "../../domain/search-syntax.ts";
import { type Binding, filterWhere, ftsQuery, keysetWhere, snapshotWhere } from "./sqlite-sql.ts";

interface Row {
  seq: number;
  id: string;
  level: string;
  source: string;
  message: string;
  ts: number;
  metadata: string | null;
  created_at: number;
}

const COLUMNS = "seq, id, level, source, message, ts, metadata, created_at";
/** Most rows one search or tail call examines; a search past it reports a lower-bound total. */
const SCAN_BOUND = 50_000;

const toEvent = (r: Row): StoredLogEvent => ({
  id: r.id,
  level: r.level as Level,
  message: r.message,
  source: r.source,
  timestamp: r.ts,
  metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as Record<string, unknown>),
  createdAt: r.created_at,
  seq: r.seq,
});

export const createSqliteRead = (db: Database) => {
  const all = (sql: string, params: Binding[]): Row[] => db.query<Row, Binding[]>(sql).all(...params);

  const page = (q: LogQuery): LogPage => {
    const f = filterWhere(q);
    const k = keysetWhere(q);
    const s = snapshotWhere(q);
    const offset = q.cursor ? 0 : q.page * q.size;
    const rows = all(
      `SELECT ${COLUMNS} FROM log_events WHERE ${f.sql} AND ${s.sql} AND ${k.sql} ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?`,
      [...f.params, ...s.params, ...k.params, q.size + 1, offset],
    );
    const counted = db
      .query<{ n: number }, Binding[]>(
        `SELECT count(*) AS n FROM (SELECT 1 FROM log_events WHERE ${f.sql} AND ${s.sql} LIMIT ?)`,
      )
      .get(...f.params, ...s.params, EXACT_TOTAL_BOUND + 1);
    const n = counted?.n ?? 0;
    const total = n > EXACT_TOTAL_BOUND ? rollupCount(q) : n;
    return {
      items: rows.slice(0, q.size).map(toEvent),
      total,
      totalExact: n <= EXACT_TOTAL_BOUND,
      hasMore: rows.length > q.size,
    };
  };

  const rollupCount = (q: LogQuery): number => {
    const f = filterWhere({ ...q, start: Math.floor(q.start / 60_000) * 60_000 }, "");
    const sql = f.sql.replace("ts >= ?", "minute >= ?").replace("ts <= ?", "minute <= ?");
    return (
      db
        .query<{ n: number | null }, Binding[]>(`SELECT sum(count) AS n FROM log_rollup_minute WHERE ${sql}`)
        .get(...f.params)?.n ?? 0
    );
  };

  const search = (q: SearchQuery): LogPage => {
    const f = filterWhere(q, "e");
    const k = keysetWhere(q, "e");
    const s = snapshotWhere(q, "e");
    const skip = q.cursor ? 0 : q.page * q.size;
    const useFts = hasPositiveTerms(q.terms);
    const source = useFts
      ? "log_events e JOIN log_fts ON log_fts.rowid = e.seq AND log_fts MATCH ?"
      : "log_events e";
    const rows = all(
      `SELECT ${COLUMNS.split(", ")
        .map((c) => `e.${c}`)
        .join(", ")} FROM ${source}
       WHERE ${f.sql} AND ${s.sql} AND ${k.sql} ORDER BY e.ts DESC, e.id DESC LIMIT ?`,
      [...(useFts ? [ftsQuery(q.terms)] : []), ...f.params, ...s.params, ...k.params, SCAN_BOUND],
    );
    const hits: PageItem[] = [];
    for (const r of rows) {
      const matched = matchTerms(q.terms, r.message);
      if (matched) hits.push({ ...toEvent(r), matched });
    }
    const pageItems = hits.slice(skip, skip + q.size);
    const exact = rows.length < SCAN_BOUND;
    return {
      items: pageItems,
      total: hits.length,
      totalExact: exact,
      hasMore: hits.length > skip + q.size || !exact,
    };
  };

  const stats = (q: StatsQuery): Stats => {
    const from = Math.floor(q.start / 60_000) * 60_000;
    const rows = db
      .query<{ minute: number; level: Level; source: string; count: number }, [number, number]>(
        "SELECT minute, level, source, count FROM log_rollup_minute WHERE minute >= ? AND minute <= ?",
      )
      .all(from, q.end);
    const levelCounts: Partial<Record<Level, number>> = {};
    const sourceCounts: Record<string, number> = {};
    const buckets = new Map<
      number,
      { start: number; count: number; levels: Partial<Record<Level, number>> }
    >();
    let totalLogs = 0;
    for (const r of rows) {
      totalLogs += r.count;
      levelCounts[r.level] = (levelCounts[r.level] ?? 0) + r.count;
      sourceCounts[r.source] = (sourceCounts[r.source] ?? 0) + r.count;
      const start = from + Math.floor((r.minute - from) / q.bucketMs) * q.bucketMs;
      const b = buckets.get(start) ?? { start, count: 0, levels: {} };
      b.count += r.count;
      b.levels[r.level] = (b.levels[r.level] ?? 0) + r.count;
      buckets.set(start, b);
    }
    const histogram = [];
    for (let start = from; start <= q.end; start += q.bucketMs)
      histogram.push(buckets.get(start) ?? { start, count: 0, levels: {} });
    return { totalLogs, levelCounts, sourceCounts, histogram };
  };

  const findById = (id: string): StoredLogEvent | undefined => {
    const row = db.query<Row, [string]>(`SELECT ${COLUMNS} FROM log_events WHERE id = ?`).get(id);
    return row ? toEvent(row) : undefined;
  };

  const tail = (q: TailQuery): StoredLogEvent[] => {
    const parts = ["seq > ?"];
    const params: Binding[] = [q.afterSeq];
    if (q.untilSeq !== undefined) {
      parts.push("seq <= ?");
      params.push(q.untilSeq);
    }
    if (q.levels.length) {
      parts.push(`level IN (${q.levels.map(() => "?").join(",")})`);
      params.push(...q.levels);
    }
    if (q.sources.length) {
      parts.push(`source IN (${q.sources.map(() => "?").join(",")})`);
      params.push(...q.sources);
    }
    const terms = q.terms;
    if (!terms)
      return all(`SELECT ${COLUMNS} FROM log_events WHERE ${parts.join(" AND ")} ORDER BY seq LIMIT ?`, [
        ...params,
        q.limit,
      ]).map(toEvent);
    // With a text filter, walk a bounded number of new rows and keep the matches.
    const rows = all(`SELECT ${COLUMNS} FROM log_events WHERE ${parts.join(" AND ")} ORDER BY seq LIMIT ?`, [
      ...params,
      SCAN_BOUND,
    ]);
    const out: StoredLogEvent[] = [];
    for (const r of rows) {
      if (matchTerms(terms, r.message)) out.push(toEvent(r));
      if (out.length >= q.limit) break;
    }
    return out;
  };

  // AUTOINCREMENT's counter, not max(seq): retention may delete the newest rows too, and the mark never goes back.
  const watermark = (): number =>
    db.query<{ seq: number | null }, []>("SELECT seq FROM sqlite_sequence WHERE name = 'log_events'").get()
      ?.seq ?? 0;

  return { page, search, stats, findById, tail, watermark };
};
