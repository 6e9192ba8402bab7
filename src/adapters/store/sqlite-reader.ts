// The embedded store's read side: keyset pages with rollup totals, search (sqlite-search.ts), stats, tail.

import type { Database } from "bun:sqlite";
import type { StoredLogEvent } from "../../domain/log-event.ts";
import type { LogPage, LogQuery, TailQuery } from "../../domain/query.ts";
import { matchTerms } from "../../domain/search-syntax.ts";
import { COLUMNS, type EventRow as Row, eventOf as toEvent } from "./sqlite-rows.ts";
import { createSqliteSearch } from "./sqlite-search.ts";
import { type Binding, filterWhere, keysetWhere, snapshotWhere } from "./sqlite-sql.ts";
import { createSqliteStats } from "./sqlite-stats.ts";
import { createTotals } from "./sqlite-totals.ts";

/** Most rows one tail call examines when it filters by text. */
const SCAN_BOUND = 50_000;

export const createSqliteRead = (db: Database) => {
  const all = (sql: string, params: Binding[]): Row[] => db.query<Row, Binding[]>(sql).all(...params);
  const totals = createTotals(db);
  const search = createSqliteSearch(db, totals);

  const page = (q: LogQuery): LogPage => {
    const f = filterWhere(q);
    const k = keysetWhere(q);
    const s = snapshotWhere(q);
    const offset = q.cursor ? 0 : q.page * q.size;
    const rows = all(
      `SELECT ${COLUMNS} FROM log_events WHERE ${f.sql} AND ${s.sql} AND ${k.sql} ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?`,
      [...f.params, ...s.params, ...k.params, q.size + 1, offset],
    );
    const { total, exact } = totals.count(q);
    return {
      items: rows.slice(0, q.size).map(toEvent),
      total,
      totalExact: exact,
      hasMore: rows.length > q.size,
    };
  };

  const stats = createSqliteStats(db);

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
